import java.util.ArrayList;
import java.util.List;

/**
 * A program whose heap grows in steps, for growth-trend tests. After each
 * step it prints "STEP n" and waits for a line on stdin, so a script can
 * dump the heap between steps:
 *
 * - Session: 300 more per step, each holding a 64-byte byte[] (grows);
 * - CacheEntry: 100 per step, but the cache keeps only the last 100
 *   (steady);
 * - Config: 50 created once (steady).
 */
public class Growing {
    static final class Session {
        final long id;
        final byte[] state = new byte[64];
        Session(long id) { this.id = id; }
    }

    static final class CacheEntry {
        final int key;
        final int[] value = new int[4];
        CacheEntry(int key) { this.key = key; }
    }

    static final class Config {
        final String name;
        Config(String name) { this.name = name; }
    }

    static final List<Session> SESSIONS = new ArrayList<>();
    static final List<CacheEntry> CACHE = new ArrayList<>();
    static final List<Config> CONFIG = new ArrayList<>();

    public static void main(String[] args) throws Exception {
        int steps = Integer.parseInt(args[0]);
        for (int i = 0; i < 50; i++) CONFIG.add(new Config("option-" + i));
        java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in));
        long next = 0;
        for (int step = 1; step <= steps; step++) {
            for (int i = 0; i < 300; i++) SESSIONS.add(new Session(next++));
            CACHE.clear();
            for (int i = 0; i < 100; i++) CACHE.add(new CacheEntry(step * 1000 + i));
            System.out.println("STEP " + step);
            System.out.flush();
            if (in.readLine() == null) return;
        }
    }
}
