#!/usr/bin/env python3
"""A small closed-loop load generator for `pareto serve` (the full harness is `pareto bench
serve`, issue 6): C concurrent streaming /v1/completions requests until N are done, each a
random-token prompt of --input-len tokens and --output-len tokens generated (ignore_eos);
--no-stream asks for whole responses instead (what the server costs apart from streaming).
Prints one JSON object: requests/s, output tokens/s, median TTFT, and the server's peak RSS
when --server-pid is given. Standard library only (asyncio, raw HTTP/1.1)."""
import argparse, asyncio, json, random, resource, statistics, sys, time


async def one_request(host, port, body, out):
    reader, writer = await asyncio.open_connection(host, port)
    payload = json.dumps(body).encode()
    writer.write(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(payload) + payload)
    await writer.drain()
    start = time.perf_counter()
    ttft = None
    tokens = 0
    status = (await reader.readline()).split()[1]
    if not body["stream"]:
        _, _, rest = (await reader.read()).partition(b"\r\n\r\n")
        writer.close()
        tokens = json.loads(rest)["usage"]["completion_tokens"] if int(status) == 200 else 0
        out.append((int(status), time.perf_counter() - start, tokens))  # TTFT: whole response
        return
    while True:
        line = await reader.readline()
        if not line:
            break
        if line.startswith(b"data: {"):
            chunk = json.loads(line[6:])
            if chunk["choices"] and chunk["choices"][0]["text"] and ttft is None:
                ttft = time.perf_counter() - start
            if chunk.get("usage"):
                tokens = chunk["usage"]["completion_tokens"]
    writer.close()
    out.append((int(status), ttft or 0.0, tokens))


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--num-requests", type=int, default=32)
    ap.add_argument("--input-len", type=int, default=8)
    ap.add_argument("--output-len", type=int, default=128)
    ap.add_argument("--vocab", type=int, default=32000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--server-pid", type=int)
    ap.add_argument("--no-stream", action="store_true", help="whole responses, not SSE")
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    rng = random.Random(a.seed)
    bodies = [{"model": a.model, "prompt": [rng.randrange(3, a.vocab) for _ in range(a.input_len)],
               "max_tokens": a.output_len, "ignore_eos": True, "temperature": 0, "stream": not a.no_stream}
              for _ in range(a.num_requests)]
    for b in bodies:
        if b["stream"]:
            b["stream_options"] = {"include_usage": True}
    results, queue = [], list(reversed(bodies))
    peak = [rss_kib(a.server_pid) if a.server_pid else 0]

    async def worker():
        while queue:
            await one_request("127.0.0.1", a.port, queue.pop(), results)

    async def sampler():
        while True:
            peak[0] = max(peak[0], rss_kib(a.server_pid))
            await asyncio.sleep(0.05)

    sampling = asyncio.create_task(sampler()) if a.server_pid else None
    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(a.concurrency)))
    elapsed = time.perf_counter() - start
    if sampling:
        sampling.cancel()
    ok = [r for r in results if r[0] == 200]
    print(json.dumps({
        "concurrency": a.concurrency, "num_requests": a.num_requests, "ok": len(ok),
        "elapsed_s": round(elapsed, 3),
        "requests_per_s": round(len(ok) / elapsed, 3),
        "output_tok_s": round(sum(r[2] for r in ok) / elapsed, 1),
        "median_ttft_s": round(statistics.median(r[1] for r in ok), 4) if ok else None,
        "server_peak_rss_mib": round(peak[0] / 1024, 1) if a.server_pid else None,
    }))
    return 0 if len(ok) == a.num_requests else 1


sys.exit(asyncio.run(main()))
