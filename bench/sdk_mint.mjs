// sdk_mint.mjs - microseconds per token for the official Node SDK's
// AccessToken.toJwt() with the claims bench/mint_bench.c uses.
// Prints one line: "sdk_mint_us <value>".
import { AccessToken } from 'livekit-server-sdk';

const iters = Number(process.argv[2] || 50000);
const key = 'APIbench';
const secret = 'bench-secret-bench-secret-bench-secret-0123';

async function one() {
  const at = new AccessToken(key, secret, { identity: 'user-123', name: 'Test User', ttl: 3600 });
  at.addGrant({ roomJoin: true, room: 'channel-123', canPublish: true, canSubscribe: true, canPublishData: true });
  return at.toJwt();
}

for (let i = 0; i < iters / 10; i++) await one(); // warm-up (JIT)
let best = Infinity;
for (let round = 0; round < 5; round++) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iters / 5; i++) await one();
  const us = Number(process.hrtime.bigint() - t0) / 1000 / (iters / 5);
  if (us < best) best = us;
}
console.log(`sdk_mint_us ${best.toFixed(3)}`);
