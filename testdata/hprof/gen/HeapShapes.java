// Builds designed heap structures, then waits so an outside `jcmd` can take
// class histograms and a heap dump (see gen-hotspot.sh).
//
// Usage: java HeapShapes <cacheEntries> <chainLength> <extraBlobs>
import java.lang.ref.SoftReference;
import java.lang.ref.WeakReference;
import java.util.HashMap;
import java.util.Map;

public class HeapShapes {
    /** A node of a singly linked chain. */
    static final class ChainNode {
        final int index;
        ChainNode next;
        ChainNode(int index) { this.index = index; }
    }

    /** A value held by many cache entries (a shared subtree). */
    static final class SharedLeaf {
        final long[] payload = new long[16];
        final String label = "shared-leaf";
    }

    /** A cache value pointing at the shared subtree plus its own bytes. */
    static final class CacheValue {
        final byte[] own;
        final SharedLeaf shared;
        CacheValue(int i, SharedLeaf shared) { this.own = new byte[8 + (i % 8)]; this.shared = shared; }
    }

    /** A referent kept alive elsewhere so the weak/soft edges are visible. */
    static final class Referent {
        final int[] data = new int[32];
    }

    static Map<String, CacheValue> cache;
    static ChainNode chainHead;
    static WeakReference<Referent> weak;
    static SoftReference<Referent> soft;
    static Referent strongReferent;
    static String[] strings;
    static Object[] blobs;

    public static void main(String[] args) throws Exception {
        int entries = Integer.parseInt(args[0]);
        int chain = Integer.parseInt(args[1]);
        int extra = Integer.parseInt(args[2]);

        SharedLeaf shared = new SharedLeaf();
        cache = new HashMap<>();
        for (int i = 0; i < entries; i++) {
            cache.put("key-" + i, new CacheValue(i, shared));
        }
        ChainNode head = new ChainNode(0);
        ChainNode tail = head;
        for (int i = 1; i < chain; i++) {
            tail.next = new ChainNode(i);
            tail = tail.next;
        }
        chainHead = head;
        strongReferent = new Referent();
        weak = new WeakReference<>(strongReferent);
        soft = new SoftReference<>(new Referent());
        strings = new String[] {"latin1 text", "unicode \u20ac\u00e9 text", ""};
        // Optional bulk for throughput measurements (not in the committed dump).
        blobs = new Object[extra];
        for (int i = 0; i < extra; i++) {
            blobs[i] = (i % 3 == 0) ? new int[64] : (i % 3 == 1) ? new ChainNode(i) : ("s" + i);
        }
        System.out.println("READY " + ProcessHandle.current().pid());
        System.out.flush();
        Thread.sleep(600_000);
    }
}
