// Registers a merchant's items through the TrustMall service, which relays them and pays the gas:
// the merchant's key signs each request here (EIP-712) and never leaves this process. Then waits
// for each request to be confirmed (polling, and by the request.confirmed webhook, whose
// signature it checks and which it dedupes by event id). See examples/README.md.
//
//   TRUSTMALL_MERCHANT_KEY=0x... TRUSTMALL_WEBHOOK_SECRET=whsec_... \
//     node examples/node/register.mjs --service http://127.0.0.1:8000 --port 8787
import { createHmac, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { parseArgs } from "node:util";
import { Interface, Wallet, keccak256, toUtf8Bytes } from "ethers";

const SERVICE = process.env.TRUSTMALL_SERVICE_URL ?? "http://127.0.0.1:8000";
const { values: args } = parseArgs({
  options: {
    service: { type: "string", default: SERVICE },
    items: { type: "string", default: new URL("../items-relayed.json", import.meta.url).pathname },
    port: { type: "string", default: "8787" }, // where the webhook endpoint points
    timeout: { type: "string", default: "120" }, // seconds to wait for the outcomes
  },
});
const { TRUSTMALL_MERCHANT_KEY: key, TRUSTMALL_WEBHOOK_SECRET: secret } = process.env;
if (!key || !secret) {
  console.log("set TRUSTMALL_MERCHANT_KEY and TRUSTMALL_WEBHOOK_SECRET (see examples/README.md)");
  process.exit(2);
}
const wallet = new Wallet(key);
const abi = JSON.parse(readFileSync(new URL("../../abi/ProductRegistry.json", import.meta.url)));
const registry = new Interface(abi);
const ITEMS_PER_REQUEST = 100;
const SKU = 0; // IProductRegistry.IdScheme.Sku
// No node to estimate with: an allowance per item, about twice what a SKU item with a short URI
// takes. The service simulates each request with exactly this gas before accepting it.
const gasFor = (count, max) => BigInt(Math.min(50_000 + 60_000 * count, max));
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

// RFC 8785 canonical JSON (sorted keys, ES number and string forms): the registry keeps its hash.
function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  const members = Object.keys(value).sort();
  return `{${members.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(",")}}`;
}

// --- the webhook receiver: check the signature, handle each event id once ----------------------
const handled = new Set(); // event ids
const outcomes = new Map(); // request id -> the request.confirmed / request.failed event

function verified(header, body) {
  const fields = Object.fromEntries((header ?? "").split(",").map((part) => part.split("=")));
  const expected = createHmac("sha256", secret).update(`${fields.t}.`).update(body).digest("hex");
  const given = Buffer.from(fields.v1 ?? "");
  const fresh = Math.abs(Date.now() / 1000 - Number(fields.t)) <= 300;
  return fresh && given.length === expected.length && timingSafeEqual(given, Buffer.from(expected));
}

const server = createServer((request, response) => {
  const chunks = [];
  request.on("data", (chunk) => chunks.push(chunk));
  request.on("end", () => {
    const body = Buffer.concat(chunks);
    if (!verified(request.headers["trustmall-signature"], body)) {
      console.log("webhook refused: bad or stale signature");
      return response.writeHead(400).end();
    }
    const event = JSON.parse(body);
    if (handled.has(event.id)) {
      console.log(`webhook ${event.id}: a duplicate, already handled`);
    } else {
      handled.add(event.id);
      const about = `${event.type} for ${event.data.request}`;
      console.log(`webhook ${event.id} ${about}: signature verified`);
      if (event.type.startsWith("request.")) outcomes.set(event.data.request, event);
    }
    response.writeHead(200).end();
  });
});
await new Promise((ready) => server.listen(Number(args.port), "127.0.0.1", ready));
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(0));

// --- the service's API: a refusal is {"error": {"code", "message", "details"}} ------------------
async function api(path, body) {
  const json = { "content-type": "application/json" };
  const init = body && { method: "POST", headers: json, body: JSON.stringify(body) };
  const answer = await fetch(`${args.service}${path}`, init);
  const said = await answer.json();
  if (!answer.ok) {
    const { code, message, details } = said.error ?? {};
    console.log(`refused: ${code}: ${message}${details ? ` ${JSON.stringify(details)}` : ""}`);
    process.exit(1);
  }
  return said;
}

// --- sign and post the requests, in nonce order -------------------------------------------------
// A careful client also checks the domain against the chain it knows (the forwarder the registry
// trusts); `ape run merchant register --via-service` does.
const signing = await api("/v1/merchant/requests/signing");
const { EIP712Domain, ...types } = signing.types; // ethers derives the domain's type itself
let nonce = BigInt((await api(`/v1/merchant/requests/nonce/${wallet.address}`)).nonce);
const deadline = Math.floor(Date.now() / 1000) + 3600; // a request still queued then fails
const items = JSON.parse(readFileSync(args.items, "utf8")).map((item) => [
  [SKU, item.sku, item.serial],
  keccak256(toUtf8Bytes(canonical(item.metadata))),
  item.metadata_uri,
]);
const requests = [];
for (let start = 0; start < items.length; start += ITEMS_PER_REQUEST) {
  const chunk = items.slice(start, start + ITEMS_PER_REQUEST);
  const request = {
    from: wallet.address,
    to: signing.contracts.ProductRegistry,
    value: 0n,
    gas: gasFor(chunk.length, signing.max_gas),
    nonce,
    deadline,
    data: registry.encodeFunctionData("registerItems", [chunk]),
  };
  const signature = await wallet.signTypedData(signing.domain, types, request);
  const accepted = await api("/v1/merchant/requests", {
    ...request,
    chainId: signing.chain_id,
    value: "0",
    gas: request.gas.toString(),
    nonce: nonce.toString(),
    signature,
  });
  console.log(`request ${accepted.id} ${accepted.status}: ${chunk.length} item(s), nonce ${nonce}`);
  requests.push(accepted.id);
  nonce += 1n;
}

// --- wait for each outcome: by polling, and by its webhook --------------------------------------
const until = Date.now() + Number(args.timeout) * 1000;
const settled = new Map();
while (settled.size < requests.length || requests.some((id) => !outcomes.has(id))) {
  if (Date.now() > until) {
    console.log(`timed out: ${settled.size} of ${requests.length} request(s) settled`);
    process.exit(1);
  }
  for (const id of requests.filter((id) => !settled.has(id))) {
    const found = await api(`/v1/merchant/requests/${id}`);
    if (found.status === "confirmed") {
      console.log(`request ${id} confirmed in block ${found.block_number} (tx ${found.tx_hash})`);
    } else if (found.status === "failed") {
      console.log(`request ${id} failed: ${found.reason}`);
    } else continue; // queued, or submitted: asked again next round
    settled.set(id, found);
  }
  await sleep(250);
}
if ([...settled.values()].some((found) => found.status !== "confirmed")) process.exit(1);
console.log(
  `all ${requests.length} request(s) confirmed; still receiving webhooks on port ${args.port} ` +
    "(Ctrl-C to stop)",
);
