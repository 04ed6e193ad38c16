// Designed for heapgraph's redaction test: planted "secrets", each holding
// the marker PLANTED, kept alive from static fields in every shape a secret
// takes on a Java heap. gen.sh dumps the heap once they are all in place.
//
//   password    String "hunter2-PLANTED-password-7Q4z", Latin-1 (coder 0);
//               a literal, so it is also a symbol (HPROF UTF8 record) and the
//               literal's own String shares its byte[]
//   passphrase  String "pässwörd-PLANTED-€-ünïcødé-3Kx9", UTF-16 (coder 1,
//               because of the €), built at run time
//   token       byte[] holding the UTF-8 bytes of "tok_PLANTED_9f8e7d6c5b4a3928",
//               built at run time
//   pin         char[] "PIN-PLANTED-55173" (HPROF writes it big-endian UTF-16);
//               from a literal, so also a symbol, and the literal's String
//               and its byte[] are in the dump too
//   sessions    HashMap<String,String> whose values are built at run time:
//               "session" -> "sess_PLANTED_a1b2c3d4e5f6",
//               "apiKey"  -> "key_PLANTED_0a9b8c7d6e5f"
//   dupA, dupB  two distinct Strings "dup-PLANTED-value", each with a byte[]
//               of its own (a duplicate-string group; the literal's own
//               String is a third, with a third array)
//
// The values built at run time appear in the source only shifted by one code
// point (see reveal()), so the dump holds them in the heap but in no symbol
// (the shifted literals, "...QMBOUFE...", are symbols and Strings).
// Literal Strings stay reachable through HotSpot's pseudo-static field
// <resolved_references> of Secrets.
//
// Usage: java Secrets   (prints READY, waits for a line on stdin, then prints
//                        the planted values and exits)
import java.nio.charset.StandardCharsets;
import java.util.HashMap;

public class Secrets {
    static String password;
    static String passphrase;
    static byte[] token;
    static char[] pin;
    static HashMap<String, String> sessions;
    static String dupA;
    static String dupB;

    /** Undoes the shift by one code point the run-time secrets are written with. */
    static String reveal(String shifted) {
        StringBuilder sb = new StringBuilder(shifted.length());
        for (int i = 0; i < shifted.length(); i++) {
            sb.append((char) (shifted.charAt(i) - 1));
        }
        return sb.toString();
    }

    public static void main(String[] args) throws java.io.IOException {
        password = new String("hunter2-PLANTED-password-7Q4z");
        // "pässwörd-PLANTED-€-ünïcødé-3Kx9"
        passphrase = reveal("q\u00e5ttx\u00f7se.QMBOUFE.\u20ad.\u00fdo\u00f0d\u00f9e\u00ea.4Ly:");
        // "tok_PLANTED_9f8e7d6c5b4a3928"
        token = reveal("upl`QMBOUFE`:g9f8e7d6c5b4:39").getBytes(StandardCharsets.UTF_8);
        pin = "PIN-PLANTED-55173".toCharArray();
        sessions = new HashMap<>();
        // "sess_PLANTED_a1b2c3d4e5f6"
        sessions.put("session", reveal("tftt`QMBOUFE`b2c3d4e5f6g7"));
        // "key_PLANTED_0a9b8c7d6e5f"
        sessions.put("apiKey", reveal("lfz`QMBOUFE`1b:c9d8e7f6g"));
        dupA = new String("dup-PLANTED-value".toCharArray());
        dupB = new String("dup-PLANTED-value".toCharArray());
        System.out.println("READY");
        System.out.flush();
        // gen.sh dumps the heap now, then writes a line. Only after the dump
        // does the program print what it planted (for gen.sh to check), so
        // that no copy of a secret sits in System.out's buffers in the dump.
        System.in.read();
        System.out.println("SECRET password " + password);
        System.out.println("SECRET passphrase " + passphrase);
        System.out.println("SECRET token " + new String(token, StandardCharsets.UTF_8));
        System.out.println("SECRET pin " + new String(pin));
        System.out.println("SECRET session " + sessions.get("session"));
        System.out.println("SECRET apiKey " + sessions.get("apiKey"));
        System.out.println("SECRET dup " + dupA + " " + (dupA != dupB && dupA.equals(dupB)));
        System.out.flush();
    }
}
