import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A server whose heap has one leak and one busy, steady structure holding
 * the same class, for retention-path growth tests. After each step it
 * prints "STEP n" and waits for a line on stdin, so a script can dump the
 * heap between steps:
 *
 * - ACTIVE: the open sessions, a HashMap that is emptied and refilled with
 *   500 new Session objects every step (churns, steady size);
 * - AUDIT_LOG: every session ever opened, 300 more per step, never trimmed
 *   (the leak);
 * - each Session holds a 64-byte byte[].
 *
 * By class, Session and byte[] grow; by retention path, only
 * SessionServer.AUDIT_LOG -> ArrayList -> Object[] -> Session grows.
 */
public class SessionServer {
    static final class Session {
        final long id;
        final byte[] state = new byte[64];
        Session(long id) { this.id = id; }
    }

    static final Map<Long, Session> ACTIVE = new HashMap<>();
    static final List<Session> AUDIT_LOG = new ArrayList<>();

    public static void main(String[] args) throws Exception {
        int steps = Integer.parseInt(args[0]);
        java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in));
        long next = 0;
        for (int step = 1; step <= steps; step++) {
            ACTIVE.clear();
            for (int i = 0; i < 500; i++) {
                Session s = new Session(next++);
                ACTIVE.put(s.id, s);
            }
            for (int i = 0; i < 300; i++) AUDIT_LOG.add(new Session(next++));
            System.out.println("STEP " + step);
            System.out.flush();
            if (in.readLine() == null) return;
        }
    }
}
