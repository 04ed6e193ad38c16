// Defined by Plugins.PluginLoader: 30 instances, each with a 100-int array.
package org.example.plugin;

public class PluginHandler {
    final int[] state = new int[100];
}
