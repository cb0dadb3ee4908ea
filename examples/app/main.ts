/**
 * `npm run app`: the reference app on the in-memory defaults. Prints each code it "sends" (a development
 * notifier; never do that in production).
 */
import { startApp } from "./server.js";

const app = await startApp({
  port: Number(process.env.PORT ?? 3000),
  onMessage: async (message) => {
    console.log(`[dev notifier] ${message.channel} → ${message.recipient}: code ${message.code}`);
    return { channel: message.channel };
  },
});
console.log(`health-token reference app on ${app.url}
  attendant:   ${app.url}/attendant.html   (guides G-1001 … G-1005)
  beneficiary: ${app.url}/beneficiary.html`);
