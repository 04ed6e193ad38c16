// Designed for heapgraph's collection fill ratios and wasted capacity
// (issue 24, item 3): collections of every kind the analysis reads, with
// sizes and capacities chosen here, each held by a field of its own.
// Prints each collection's size as Java counts it (the test's check).
//
// Usage: java Holders
import java.util.*;
import java.util.concurrent.ConcurrentHashMap;

public class Holders {
    /** 20 owners, each with a half-empty map, a list at 10 % and a builder at 1 %. */
    static final class Owner {
        final HashMap<String, Integer> index = new HashMap<>();
        final ArrayList<String> names = new ArrayList<>(100);
        final StringBuilder log = new StringBuilder(1000);

        Owner(int n) {
            for (int i = 0; i < 100; i++) {
                index.put("k" + n + "-" + i, i);
            }
            for (int i = 0; i < 10; i++) {
                names.add("name" + i);
            }
            log.append("0123456789");
        }
    }

    static Owner[] OWNERS = new Owner[20];
    static List<ArrayList<String>> EMPTY_LISTS = new ArrayList<>();
    static HashSet<Integer> SET = new HashSet<>();
    static ConcurrentHashMap<Integer, Integer> CONCURRENT = new ConcurrentHashMap<>();
    static Hashtable<Integer, Integer> TABLE = new Hashtable<>();
    static WeakHashMap<Integer, Integer> WEAK = new WeakHashMap<>();
    static List<Integer> WEAK_KEYS = new ArrayList<>();
    static ArrayDeque<Integer> DEQUE = new ArrayDeque<>();
    static Vector<Integer> VECTOR = new Vector<>(50);
    static LinkedHashMap<String, String> LINKED = new LinkedHashMap<>();
    static StringBuffer UTF16 = new StringBuffer(100);
    static Object[] SPARSE = new Object[100];

    public static void main(String[] args) throws Exception {
        for (int i = 0; i < OWNERS.length; i++) {
            OWNERS[i] = new Owner(i);
        }
        for (int i = 0; i < 30; i++) {
            EMPTY_LISTS.add(new ArrayList<>());
        }
        for (int i = 0; i < 1000; i++) {
            SET.add(i);
        }
        for (int i = 0; i < 500; i++) {
            CONCURRENT.put(i, i);
        }
        for (int i = 0; i < 100; i++) {
            TABLE.put(i, i);
        }
        for (int i = 0; i < 10; i++) {
            Integer key = 100_000 + i;
            WEAK_KEYS.add(key);
            WEAK.put(key, i);
        }
        for (int i = 0; i < 10; i++) {
            DEQUE.add(i);
        }
        for (int i = 0; i < 5; i++) {
            VECTOR.add(i);
        }
        LINKED.put("a", "1");
        LINKED.put("b", "2");
        LINKED.put("c", "3");
        UTF16.append("h\u00e9llo \u20ac");
        for (int i = 0; i < 100; i += 10) {
            SPARSE[i] = "slot" + i;
        }
        System.out.println("SIZE Holders.OWNERS[].index " + OWNERS[0].index.size());
        System.out.println("SIZE Holders.OWNERS[].names " + OWNERS[0].names.size());
        System.out.println("SIZE Holders.OWNERS[].log " + OWNERS[0].log.length());
        System.out.println("SIZE Holders.SET " + SET.size());
        System.out.println("SIZE Holders.CONCURRENT " + CONCURRENT.size());
        System.out.println("SIZE Holders.TABLE " + TABLE.size());
        System.out.println("SIZE Holders.WEAK " + WEAK.size());
        System.out.println("SIZE Holders.DEQUE " + DEQUE.size());
        System.out.println("SIZE Holders.VECTOR " + VECTOR.size());
        System.out.println("SIZE Holders.LINKED " + LINKED.size());
        System.out.println("SIZE Holders.UTF16 " + UTF16.length());
        System.out.println("READY");
        System.out.flush();
        Thread.sleep(600_000);
    }
}
