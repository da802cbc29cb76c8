import { createRedisEventTarget } from "@graphql-yoga/redis-event-target";
import type { PubSubEventTarget } from "@graphql-yoga/subscription";
import { Redis } from "ioredis";
import type { Logger } from "pino";
import type { Topics } from "./events.js";

export interface RedisBus {
  eventTarget: PubSubEventTarget<Topics>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Redis pub/sub behind the subscription event bus, so every replica's subscribers see every event. */
export async function createRedisBus(url: string, logger: Logger): Promise<RedisBus> {
  const options = { lazyConnect: true, maxRetriesPerRequest: 3, enableOfflineQueue: true };
  const publishClient = new Redis(url, options);
  const subscribeClient = new Redis(url, options);
  for (const [name, client] of [
    ["publish", publishClient],
    ["subscribe", subscribeClient],
  ] as const) {
    client.on("error", (err) => logger.warn({ err: err.message, client: name }, "redis connection error"));
  }
  try {
    await Promise.all([publishClient.connect(), subscribeClient.connect()]);
  } catch (err) {
    publishClient.disconnect();
    subscribeClient.disconnect();
    throw new Error(`REDIS_URL: cannot connect to ${redact(url)}: ${(err as Error).message}`);
  }
  return {
    eventTarget: createRedisEventTarget({ publishClient, subscribeClient }) as unknown as PubSubEventTarget<Topics>,
    async ping() {
      await publishClient.ping();
    },
    async close() {
      await Promise.allSettled([publishClient.quit(), subscribeClient.quit()]);
    },
  };
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, "//***@");
}
