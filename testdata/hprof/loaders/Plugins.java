// Designed for heapgraph's consumers by package and by class loader
// (issue 24, item 2): a custom class loader defines two plugin classes
// whose instances hold known bytes; the application's own classes live in
// another package. gen.sh dumps the heap once everything is built.
//
// Usage: java -cp DIR org.example.app.Plugins PLUGIN_CLASSES_DIR
package org.example.app;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

public class Plugins {
    /** Loads the org.example.plugin classes from a directory, itself. */
    static final class PluginLoader extends ClassLoader {
        private final Path dir;

        PluginLoader(Path dir, ClassLoader parent) {
            super("plugins", parent);
            this.dir = dir;
        }

        @Override
        protected Class<?> findClass(String name) throws ClassNotFoundException {
            try {
                byte[] bytes = Files.readAllBytes(dir.resolve(name.replace('.', '/') + ".class"));
                return defineClass(name, bytes, 0, bytes.length);
            } catch (java.io.IOException e) {
                throw new ClassNotFoundException(name, e);
            }
        }
    }

    /** The application's own record: 40 of them, each with 200 bytes. */
    static final class Record {
        final byte[] data = new byte[200];
    }

    static List<Object> PLUGIN_OBJECTS = new ArrayList<>();
    static Record[] RECORDS = new Record[40];
    static ClassLoader LOADER;

    public static void main(String[] args) throws Exception {
        LOADER = new PluginLoader(Path.of(args[0]), Plugins.class.getClassLoader());
        Class<?> cache = LOADER.loadClass("org.example.plugin.PluginCache");
        Class<?> handler = LOADER.loadClass("org.example.plugin.PluginHandler");
        for (int i = 0; i < 50; i++) {
            PLUGIN_OBJECTS.add(cache.getDeclaredConstructor().newInstance());
        }
        for (int i = 0; i < 30; i++) {
            PLUGIN_OBJECTS.add(handler.getDeclaredConstructor().newInstance());
        }
        for (int i = 0; i < RECORDS.length; i++) {
            RECORDS[i] = new Record();
        }
        System.out.println("READY");
        System.out.flush();
        Thread.sleep(600_000);
    }
}
