// Agent protocol version 2 conformance, driven from Node.js (plain node, no packages).
// Usage: node agent_conformance.mjs S3C CONN_FILE BUCKET WORK_DIR
// Prints one JSON report {ok, checks: {name: {ok, detail}}}; exits 0 when every check passes.
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";

const [s3c, connFile, bucket, workDir] = process.argv.slice(2);
const checks = {};
const check = (name, ok, detail = null) => {
  checks[name] = { ok: Boolean(ok), detail };
};

class Agent {
  constructor(args) {
    this.child = spawn(s3c, ["serve", "-c", connFile, "--protocol", "2", ...args], {
      stdio: ["pipe", "pipe", "ignore"],
    });
    this.lineNumber = 0;
    this.waiting = new Map();
    this.documents = new Map();
    this.statuses = new Map();
    this.orphans = [];
    this.exited = new Promise((resolve) => this.child.on("exit", (code) => resolve(code)));
    this.ready = new Promise((resolve) => {
      this.onReady = resolve;
    });
    createInterface({ input: this.child.stdout }).on("line", (text) => this.receive(JSON.parse(text)));
  }

  receive(line) {
    if (line.ready) return this.onReady(line);
    if (line.request_id === null) return this.orphans.push(line);
    const key = JSON.stringify(line.request_id);
    if (!("status" in line)) {
      (this.documents.get(key) ?? this.documents.set(key, []).get(key)).push(line);
      return;
    }
    (this.statuses.get(key) ?? this.statuses.set(key, []).get(key)).push(line);
    const resolve = this.waiting.get(key);
    if (resolve) resolve(line);
  }

  send(value) {
    this.lineNumber += 1;
    this.child.stdin.write((typeof value === "string" ? value : JSON.stringify(value)) + "\n");
    return this.lineNumber;
  }

  request(value) {
    const key = JSON.stringify(value.id);
    const answer = new Promise((resolve) => this.waiting.set(key, resolve));
    this.send(value);
    return answer;
  }

  async close() {
    this.child.stdin.end();
    return this.exited;
  }
}

const put = (id, key, extra = {}) => ({
  id,
  activity: "put_object",
  config: { bucket, key },
  documents: [{ content_text: `body of ${key}` }],
  ...extra,
});
const slowPut = (id, key, path) => ({
  id,
  activity: "put_object",
  config: { bucket, key },
  documents: [{ path }],
});
const head = (id, key) => ({ id, activity: "head_object", config: { bucket, key } });
const waitFor = async (predicate, ms = 30000) => {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
};

async function main() {
  const big = join(workDir, "big.bin");
  writeFileSync(big, randomBytes(48 * 1024 * 1024));

  // Ready line, ping, 200+ concurrent requests, a duplicate id, an unparseable line.
  const agent = new Agent(["--workers", "8"]);
  const ready = await agent.ready;
  check("ready", ready.protocol === 2 && ready.activities.includes("put_object"), ready);
  const pong = await agent.request({ id: "ping-1", ping: true });
  check("ping", pong.status === "ok" && pong.pong === true, pong);

  const many = [];
  for (let i = 0; i < 250; i += 1) many.push(agent.request(put(`many-${i}`, `conf/many/${i}.txt`)));
  const answers = await Promise.all(many);
  const matched = answers.every((answer, i) => {
    const docs = agent.documents.get(JSON.stringify(`many-${i}`)) ?? [];
    return answer.status === "ok" && docs.length === 1 && docs[0].properties.key === `conf/many/${i}.txt`;
  });
  check("concurrent_250_matched_by_id", matched, answers.filter((a) => a.status !== "ok").slice(0, 3));

  const first = agent.request(slowPut("dup", "conf/dup.bin", big));
  const dupLine = agent.send(put("dup", "conf/dup-second.txt"));
  const firstAnswer = await first;
  const refused = agent.orphans.find((line) => line.line === dupLine);
  check(
    "duplicate_id_refused",
    refused?.error?.field === "id" &&
      firstAnswer.status === "ok" &&
      agent.statuses.get('"dup"').length === 1 &&
      agent.documents.get('"dup"')[0].properties.key === "conf/dup.bin",
    { refused, firstAnswer },
  );

  // A 50 MiB object put by chunk lines and got back by chunk lines, checksum verified.
  const sent = createHash("sha256");
  let size = 0;
  const stored = agent.request({ ...put("chunks-put", "conf/fifty.bin"), documents: [{ content_chunks: true }] });
  for (let seq = 0; seq < 50; seq += 1) {
    const data = randomBytes(1024 * 1024);
    sent.update(data);
    size += data.length;
    agent.send({ chunk: "chunks-put", seq, data: data.toString("base64") });
  }
  const sentDigest = sent.digest("hex");
  agent.send({ chunk: "chunks-put", end: true, size, sha256: sentDigest });
  const storedAnswer = await stored;
  const got = await agent.request({
    id: "chunks-get",
    activity: "get_object",
    config: { bucket, key: "conf/fifty.bin" },
    content_chunks: true,
  });
  const lines = agent.documents.get('"chunks-get"') ?? [];
  const received = createHash("sha256");
  let receivedSize = 0;
  let inOrder = true;
  lines
    .filter((line) => "chunk" in line)
    .forEach((line, index) => {
      inOrder &&= line.chunk === index;
      const data = Buffer.from(line.data, "base64");
      received.update(data);
      receivedSize += data.length;
    });
  const end = lines.find((line) => line.chunk_end);
  check(
    "fifty_mib_by_chunks",
    storedAnswer.status === "ok" &&
      got.status === "ok" &&
      inOrder &&
      receivedSize === size &&
      end?.size === size &&
      end?.sha256 === sentDigest &&
      received.digest("hex") === sentDigest,
    { stored: storedAnswer.status, got: got.status, receivedSize, end },
  );

  const badLine = agent.send("this is not json");
  await waitFor(() => agent.orphans.some((line) => line.line === badLine));
  const bad = agent.orphans.find((line) => line.line === badLine);
  check("unparseable_line", bad?.request_id === null && bad.error.kind === "invalid_input", bad);
  check("exit_at_eof", (await agent.close()) === 0);

  // Cancel and deadline: requests queued behind a slow one on one worker.
  const serial = new Agent(["--workers", "1"]);
  await serial.ready;
  const slow = serial.request(slowPut("slow-a", "conf/slow-a.bin", big));
  const cancelled = serial.request(put("victim", "conf/cancelled.txt"));
  serial.send({ cancel: "victim" });
  const late = serial.request(put("late", "conf/late.txt", { deadline_ms: 20 }));
  const [slowAnswer, cancelAnswer, lateAnswer] = await Promise.all([slow, cancelled, late]);
  const gone1 = await serial.request(head("head-1", "conf/cancelled.txt"));
  const gone2 = await serial.request(head("head-2", "conf/late.txt"));
  check(
    "cancel",
    slowAnswer.status === "ok" && cancelAnswer.status === "cancelled" && gone1.error?.kind === "not_found",
    { cancelAnswer, gone1 },
  );
  check("deadline", lateAnswer.status === "deadline_exceeded" && gone2.error?.kind === "not_found", {
    lateAnswer,
    gone2,
  });
  check("serial_exit", (await serial.close()) === 0);

  // SIGTERM with requests in flight: each gets exactly one status line, exit 0.
  const draining = new Agent(["--workers", "2", "--grace-seconds", "0.5"]);
  await draining.ready;
  const ids = [];
  for (let i = 0; i < 20; i += 1) {
    ids.push(`drain-${i}`);
    draining.request(slowPut(`drain-${i}`, `conf/drain/${i}.bin`, big));
  }
  await waitFor(() => draining.statuses.size >= 1);
  draining.child.kill("SIGTERM");
  const code = await draining.exited;
  const counts = ids.map((id) => (draining.statuses.get(JSON.stringify(id)) ?? []).length);
  const kinds = ids.map((id) => draining.statuses.get(JSON.stringify(id))?.[0]?.status);
  check(
    "sigterm_drain",
    code === 0 && counts.every((n) => n === 1) && kinds.includes("ok") && kinds.includes("cancelled"),
    { code, kinds },
  );
}

const timer = setTimeout(() => {
  check("finished_in_time", false);
  report();
  process.exit(1);
}, 240000);

function report() {
  const ok = Object.values(checks).every((c) => c.ok);
  process.stdout.write(JSON.stringify({ ok, checks }) + "\n");
  return ok;
}

main()
  .then(() => {
    clearTimeout(timer);
    process.exit(report() ? 0 : 1);
  })
  .catch((error) => {
    check("no_exception", false, String(error?.stack ?? error));
    report();
    process.exit(1);
  });
