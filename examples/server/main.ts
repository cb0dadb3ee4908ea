/**
 * Starts the reference backend on the memory store, with a development notifier that prints each message
 * to the console (never do that in production: wire `health-token/smtp`, `/whatsapp`, `/sms` or `/webhook`).
 *
 *   npx tsx examples/server/main.ts        # PORT=3000 by default
 */
import { serve } from "@hono/node-server";
import { createTokenService, MemoryTokenStore, type Notifier, systemClock } from "../../src/index.js";
import { createApp, type RegistryEntry } from "./app.js";

const devNotifier: Notifier = {
  async send(message) {
    console.log(`[dev notifier] ${message.channel} → ${message.recipient}: code ${message.code}`);
    return { channel: message.channel };
  },
};

const registry = new Map<string, RegistryEntry>([
  [
    "BEN-0001",
    {
      person: {
        id: "BEN-0001",
        birthDate: "1980-05-17",
        contacts: [
          { id: "c1", channel: "sms", address: "(43) 99999-0001" },
          { id: "c2", channel: "email", address: "beneficiaria@example.com" },
        ],
      },
    },
  ],
]);

const pepper = process.env.HEALTH_TOKEN_PEPPER ?? crypto.getRandomValues(new Uint8Array(32));
const tokens = createTokenService({ store: new MemoryTokenStore(), notifier: devNotifier, pepper });
const app = createApp({ tokens, clock: systemClock, registry });
const port = Number(process.env.PORT ?? 3000);
serve({ fetch: app.fetch, port, hostname: "127.0.0.1" }, (info) => {
  console.log(`health-token reference backend on http://127.0.0.1:${info.port}`);
});
