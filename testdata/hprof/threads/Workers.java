// Designed for heapgraph's thread overview (issue 24, item 1): three worker
// threads, each holding a byte array of a known size in a local variable
// of hold() while it sleeps two frames further in, plus one thread blocked
// on a monitor and one waiting without a timeout. gen.sh dumps the heap
// once all of them are in place.
//
// Usage: java Workers
public class Workers {
    static final Object LOCK = new Object();

    /** Holds `kib` KiB in a local while the thread sleeps. */
    static int hold(int kib) throws InterruptedException {
        byte[] data = new byte[kib * 1024];
        pause();
        return data.length; // keeps `data` live across the sleep
    }

    static void pause() throws InterruptedException {
        Thread.sleep(600_000);
    }

    public static void main(String[] args) throws Exception {
        for (int i = 1; i <= 3; i++) {
            int kib = i * 10;
            Thread worker = new Thread(() -> {
                try {
                    hold(kib);
                } catch (InterruptedException e) {
                    // the dump is taken before any interrupt
                }
            }, "worker-" + i);
            worker.setDaemon(true);
            worker.start();
        }
        Thread waiter = new Thread(() -> {
            synchronized (LOCK) {
                try {
                    LOCK.wait();
                } catch (InterruptedException e) {
                    // not reached
                }
            }
        }, "waiter");
        waiter.setDaemon(true);
        waiter.start();
        Thread.sleep(200);
        synchronized (LOCK) {
            Thread blocked = new Thread(() -> {
                synchronized (LOCK) {
                    LOCK.notifyAll();
                }
            }, "blocked");
            blocked.setDaemon(true);
            blocked.start();
            Thread.sleep(500);
            System.out.println("READY");
            System.out.flush();
            Thread.sleep(600_000);
        }
    }
}
