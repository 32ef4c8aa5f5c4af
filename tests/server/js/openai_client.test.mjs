// Pareto's server driven by the official OpenAI Node client (tests/cli/serve.sh starts the
// server and passes its address). Greedy texts are compared between modes of the same server;
// the C++ tests compare them with the engine alone.
import test from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';

const baseURL = process.env.PARETO_URL;  // http://127.0.0.1:PORT/v1
const model = process.env.PARETO_MODEL;
const apiKey = process.env.PARETO_API_KEY;
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 120000 });

async function streamText(params) {
  const stream = await client.completions.create({ ...params, stream: true });
  let text = '';
  let finish = null;
  for await (const chunk of stream) {
    for (const c of chunk.choices) {
      text += c.text;
      if (c.finish_reason) finish = c.finish_reason;
    }
  }
  return { text, finish };
}

test('completion, streamed and not, greedy and identical', async () => {
  const params = { model, prompt: 'Once upon a time', max_tokens: 32, temperature: 0 };
  const r = await client.completions.create(params);
  assert.equal(r.object, 'text_completion');
  assert.equal(r.choices.length, 1);
  assert.equal(r.choices[0].finish_reason, 'length');
  assert.equal(r.usage.completion_tokens, 32);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + 32);
  assert.equal(typeof r.usage.prompt_tokens_details.cached_tokens, 'number');
  const s = await streamText(params);
  assert.equal(s.text, r.choices[0].text);
  assert.equal(s.finish, 'length');
});

test('chat completion, streamed and not, with usage', async () => {
  const params = { model, messages: [{ role: 'system', content: 'Be brief.' },
                                     { role: 'user', content: [{ type: 'text', text: 'Hello' }] }],
                   max_completion_tokens: 16, temperature: 0 };
  const r = await client.chat.completions.create(params);
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.equal(typeof r.choices[0].message.content, 'string');
  const stream = await client.chat.completions.create({
    ...params, stream: true, stream_options: { include_usage: true } });
  let text = '';
  let role = null;
  let usage = null;
  for await (const chunk of stream) {
    assert.equal(chunk.object, 'chat.completion.chunk');
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) {
      if (c.delta.role) role = c.delta.role;
      if (c.delta.content) text += c.delta.content;
    }
  }
  assert.equal(role, 'assistant');
  assert.equal(text, r.choices[0].message.content);
  assert.equal(usage.prompt_tokens, r.usage.prompt_tokens);
  assert.equal(usage.completion_tokens, r.usage.completion_tokens);
  // The same prompt again: its full blocks come from the prefix cache.
  const blockSize = 16;
  assert.equal(usage.prompt_tokens_details.cached_tokens,
               Math.floor((r.usage.prompt_tokens - 1) / blockSize) * blockSize);
});

test('n=2 gives two choices, seeded sampling is reproducible', async () => {
  const params = { model, prompt: 'The little dog', max_tokens: 24, temperature: 1.0, n: 2, seed: 1234 };
  const a = await client.completions.create(params);
  const b = await client.completions.create(params);
  assert.equal(a.choices.length, 2);
  assert.deepEqual(a.choices.map(c => c.index).sort(), [0, 1]);
  assert.deepEqual(a.choices.map(c => c.text), b.choices.map(c => c.text));
  const c = await client.completions.create({ ...params, seed: 99 });
  assert.notDeepEqual(c.choices.map(x => x.text), a.choices.map(x => x.text));
});

test('stop strings end the text before the stop and never leak it', async () => {
  const full = await client.completions.create({ model, prompt: 'Once upon a time', max_tokens: 48, temperature: 0 });
  const text = full.choices[0].text;
  const words = text.trim().split(/\s+/);
  const stop = words[Math.min(5, words.length - 1)];
  const cut = text.indexOf(stop);
  for (const stream of [false, true]) {
    const params = { model, prompt: 'Once upon a time', max_tokens: 48, temperature: 0, stop: [stop] };
    const got = stream ? await streamText(params)
                       : await client.completions.create(params).then(r => ({ text: r.choices[0].text, finish: r.choices[0].finish_reason }));
    assert.equal(got.text, text.slice(0, cut));
    assert.equal(got.finish, 'stop');
  }
});

test('logprobs on completions and chat', async () => {
  const r = await client.completions.create({ model, prompt: 'Once', max_tokens: 5, temperature: 0, logprobs: 2 });
  const lp = r.choices[0].logprobs;
  assert.equal(lp.tokens.length, 5);
  assert.equal(lp.token_logprobs.length, 5);
  assert.equal(lp.top_logprobs.length, 5);
  for (const t of lp.token_logprobs) assert.ok(t <= 0);
  for (const alts of lp.top_logprobs) assert.equal(Object.keys(alts).length <= 2, true);
  assert.equal(lp.text_offset[0], 0);
  // Greedy: the chosen token is the most likely one.
  for (let i = 0; i < 5; ++i) assert.ok(Math.max(...Object.values(lp.top_logprobs[i])) <= lp.token_logprobs[i] + 1e-4);

  const c = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hi' }],
                                                   max_tokens: 3, logprobs: true, top_logprobs: 2 });
  const content = c.choices[0].logprobs.content;
  assert.equal(content.length, 3);
  for (const t of content) {
    assert.equal(typeof t.token, 'string');
    assert.ok(t.logprob <= 0);
    assert.equal(t.top_logprobs.length, 2);
    assert.ok(Array.isArray(t.bytes));
  }
});

async function expectError(promise, status, { type = 'invalid_request_error', param, code } = {}) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof OpenAI.APIError, `expected an APIError, got ${e}`);
    assert.equal(e.status, status);
    assert.equal(e.type, type);
    if (param !== undefined) assert.equal(e.param, param);
    if (code !== undefined) assert.equal(e.code, code);
    assert.ok(e.message.length > 0);
    return true;
  });
}

test('bad requests give OpenAI error objects', async () => {
  await expectError(client.completions.create({ model: 'no-such-model', prompt: 'x' }), 400,
                    { param: 'model', code: 'model_not_found' });
  await expectError(client.completions.create({ model, prompt: 'x', max_tokens: 0 }), 400,
                    { param: 'max_tokens', code: 'invalid_value' });
  await expectError(client.completions.create({ model, prompt: 'x', n: 1000 }), 400, { param: 'n' });
  await expectError(client.completions.create({ model, prompt: 'x', temperature: 'hot' }), 400,
                    { param: 'temperature', code: 'invalid_type' });
  await expectError(client.chat.completions.create({ model, messages: [] }), 400, { param: 'messages' });
  await expectError(client.completions.create({ model, prompt: 'x', max_tokens: 10000000 }), 400,
                    { code: 'context_length_exceeded' });
  await expectError(client.completions.create({ model, prompt: 'once '.repeat(5000) }), 400,
                    { param: 'prompt', code: 'context_length_exceeded' });
  const bad = new OpenAI({ baseURL, apiKey: 'wrong-key', maxRetries: 0 });
  await expectError(bad.models.list(), 401, { code: 'invalid_api_key' });

  // The exact shape on the wire, for malformed JSON (which the client can't send).
  const res = await fetch(`${baseURL}/completions`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${apiKey}` },
    body: '{"model": ' });
  assert.equal(res.status, 400);
  const body = await res.json();
  assert.deepEqual(Object.keys(body), ['error']);
  assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
  assert.equal(body.error.type, 'invalid_request_error');
  assert.equal(body.error.code, 'invalid_json');
});

test('models list', async () => {
  const models = await client.models.list();
  const ids = [];
  for await (const m of models) ids.push(m.id);
  assert.deepEqual(ids, [model]);
});
