// Defined by Plugins.PluginLoader: 50 instances, each with a 1000-byte array.
package org.example.plugin;

public class PluginCache {
    final byte[] entries = new byte[1000];
}
