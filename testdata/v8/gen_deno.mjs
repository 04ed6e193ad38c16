// Generates deno2-orders.heapsnapshot for the V8 parser tests.
// Run (Deno 2.9.6 from npm `deno`, V8 15.0):
//   deno run -A gen_deno.mjs && gzip -9 -n -f deno2-orders.heapsnapshot
import v8 from "node:v8";

class Order {
  constructor(i) {
    this.orderId = i;
  }
}
globalThis.orders = [];
for (let i = 0; i < 700; i++) globalThis.orders.push(new Order(i));
console.log(v8.writeHeapSnapshot(new URL("./deno2-orders.heapsnapshot", import.meta.url).pathname));
