// Runs the unmodified @chatkitty/core SDK (2.106.2) against this server.
//
// Environment: CK_HOST (host:port), CK_API_KEY (an application that allows guests), JANE_TOKEN and
// JOHN_TOKEN (user access tokens of the registered users jane@chatkitty.com and
// john@chatkitty.com, minted with POST /v1/users/{id}/access-tokens).
// Prints one `PASS <step>` or `FAIL <step>: <why>` line per step, then `SUMMARY <passed>/<total>`,
// and exits non-zero if any step failed. Every step is bounded by a timeout: the SDK has none.
//
// The "(doc)" steps are the client snippets of the product documentation (channels page), pasted
// verbatim; only the lines marked `// harness:` were added to record what they produced.

import WebSocket from 'ws';
import { connectApi, getSdkClient } from '@chatkitty/core';

globalThis.WebSocket = WebSocket; // Node 20 has no global WebSocket; without it the SDK hangs.

const HOST = process.env.CK_HOST ?? 'localhost:8000';
const API_KEY = process.env.CK_API_KEY ?? '';
const JANE_TOKEN = process.env.JANE_TOKEN ?? '';
const JOHN_TOKEN = process.env.JOHN_TOKEN ?? '';
const STEP_TIMEOUT_MS = Number(process.env.STEP_TIMEOUT_MS ?? 10000);
const $environment = { host: HOST, secure: false };

let passed = 0;
let failed = 0;

function withTimeout(promise, label, ms = STEP_TIMEOUT_MS) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${label}`)), ms);
  });
  return Promise.race([Promise.resolve(promise), timeout]).finally(() => clearTimeout(timer));
}

async function step(name, fn) {
  try {
    const detail = await withTimeout(fn(), name);
    passed += 1;
    console.log(`PASS ${name}${detail ? ` (${detail})` : ''}`);
  } catch (error) {
    failed += 1;
    console.log(`FAIL ${name}: ${error?.message ?? error}`);
  }
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

function describe(value) {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

function succeeded(result, what) {
  check(result && result.succeeded, `${what} failed: ${describe(result?.error ?? result)}`);
}

// A value some callback will deliver later, awaited with the harness timeout.
function deferred() {
  let resolve;
  const promise = new Promise((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// --- sessions ---------------------------------------------------------------------------------

const chatkitty = getSdkClient(API_KEY, { $environment }); // jane, as the doc snippets call it
let johnConnection;
let john; // a second, uncached client for john
let channel; // the channel the doc snippets act on
let channelId;
let directChannel;
let publicChannel;
let privateChannel;
let johnsPublicChannel;
const joinedChannels = [];

await step('startSession jane (user access token)', async () => {
  const result = await chatkitty.startSession({
    username: 'jane@chatkitty.com',
    authParams: { accessToken: JANE_TOKEN },
  });
  succeeded(result, 'startSession');
  const user = result.session.user;
  check(user.name === 'jane@chatkitty.com' && user.isGuest === false, 'wrong current user');
  return `user ${user.id}`;
});

await step('connectApi john (second user, uncached client)', async () => {
  johnConnection = await connectApi({
    apiKey: API_KEY,
    username: 'john@chatkitty.com',
    authParams: { accessToken: JOHN_TOKEN },
    $environment,
  });
  john = johnConnection.getSdkClient();
  check(typeof john.createChannel === 'function', 'no SDK client');
});

await step('john creates a PUBLIC channel for jane to join', async () => {
  const result = await john.createChannel({ type: 'PUBLIC', name: 'johns-public-channel' });
  succeeded(result, 'createChannel');
  johnsPublicChannel = result.channel;
  check(johnsPublicChannel._actions.leave && !johnsPublicChannel._actions.join, 'creator maps');
});

await step('onChannelJoined (doc)', async () => {
  const unsubscribe = chatkitty.onChannelJoined((channel) => {
    // handle channel
    joinedChannels.push(channel); // harness: record the notification
  });

  // call when you're no longer interested in updates
  unsubscribe();
});

// --- the product doc's snippets -----------------------------------------------------------------

await step('createChannel DIRECT (doc)', async () => {
  const result = await chatkitty.createChannel({
    type: 'DIRECT',
    members: [
      { username: 'jane@chatkitty.com' },
      { username: 'john@chatkitty.com' },
    ],
  });

  if (result.succeeded) {
    const channel = result.channel; // Handle channel
    directChannel = channel; // harness: keep it
  }

  if (result.failed) {
    const error = result.error; // Handle error
    throw new Error(JSON.stringify(error)); // harness: fail the step
  }
  check(directChannel.type === 'DIRECT' && directChannel.members.length === 2, 'DIRECT shape');
  return `channel ${directChannel.id}`;
});

await step('createChannel DIRECT again returns the same channel', async () => {
  const result = await chatkitty.createChannel({
    type: 'DIRECT',
    members: [{ username: 'jane@chatkitty.com' }, { username: 'john@chatkitty.com' }],
  });
  succeeded(result, 'createChannel');
  check(result.channel.id === directChannel.id, 'a second DIRECT channel for the same members');
});

await step('createChannel PUBLIC (doc)', async () => {
  const result = await chatkitty.createChannel({
    type: 'PUBLIC',
    name: 'my-first-public-channel',
  });

  if (result.succeeded) {
    const channel = result.channel; // Handle channel
    publicChannel = channel; // harness: keep it
  }

  if (result.failed) {
    const error = result.error; // Handle error
    throw new Error(JSON.stringify(error)); // harness: fail the step
  }
  check(publicChannel.type === 'PUBLIC' && publicChannel.name === 'my-first-public-channel', 'shape');
});

await step('createChannel PRIVATE (doc)', async () => {
  const result = await chatkitty.createChannel({
    type: 'PRIVATE',
    name: 'my-first-private-channel',
  });

  if (result.succeeded) {
    const channel = result.channel; // Handle channel
    privateChannel = channel; // harness: keep it
  }

  if (result.failed) {
    const error = result.error; // Handle error
    throw new Error(JSON.stringify(error)); // harness: fail the step
  }
  check(privateChannel.type === 'PRIVATE', 'shape');
});

await step('listChannels() (doc)', async () => {
  let names; // harness
  const result = await chatkitty.listChannels();

  if (result.succeeded) {
    const channels = result.paginator.items; // Handle channels
    names = channels.map((c) => c.name ?? `direct-${c.id}`); // harness
  }

  if (result.failed) {
    const error = result.error; // Handle error
    throw new Error(JSON.stringify(error)); // harness: fail the step
  }
  for (const name of ['my-first-public-channel', 'my-first-private-channel', 'johns-public-channel']) {
    check(names.includes(name), `missing ${name} in ${names}`);
  }
  return names.join(', ');
});

await step('listChannels({ filter: { joined: true } }) (doc)', async () => {
  let names; // harness
  const result = await chatkitty.listChannels({ filter: { joined: true } });

  if (result.succeeded) {
    const channels = result.paginator.items; // Handle channels
    names = channels.map((c) => c.name ?? `direct-${c.id}`); // harness
  }

  if (result.failed) {
    const error = result.error; // Handle error
    throw new Error(JSON.stringify(error)); // harness: fail the step
  }
  check(names.includes('my-first-private-channel'), 'joined channels miss the private channel');
  check(!names.includes('johns-public-channel'), 'a channel jane has not joined is listed');
  return names.join(', ');
});

await step('listChannels({ filter: { joined: false } }) (doc)', async () => {
  let joinable; // harness
  const result = await chatkitty.listChannels({ filter: { joined: false } });

  if (result.succeeded) {
    const channels = result.paginator.items; // Handle channels
    joinable = channels; // harness
  }

  if (result.failed) {
    const error = result.error; // Handle error
    throw new Error(JSON.stringify(error)); // harness: fail the step
  }
  check(
    joinable.length === 1 && joinable[0].name === 'johns-public-channel',
    `joinable: ${joinable.map((c) => c.name)}`,
  );
  check(joinable[0]._actions.join, 'a joinable channel must carry _actions.join');
  channel = joinable[0]; // harness: the next snippets act on it
  channelId = channel.id;
});

await step('retrieveChannel(channelId) (doc)', async () => {
  let retrieved; // harness
  const result = await chatkitty.retrieveChannel(channelId);

  if (result.succeeded) {
    const channel = result.channel; // Handle channel
    retrieved = channel; // harness
  }

  if (result.failed) {
    const error = result.error; // Handle error
    throw new Error(JSON.stringify(error)); // harness: fail the step
  }
  check(retrieved.id === channelId && retrieved.name === 'johns-public-channel', 'wrong channel');
});

await step('joinChannel({ channel }) (doc) and onChannelJoined fires', async () => {
  let joined; // harness
  const result = await chatkitty.joinChannel({ channel });

  if (result.succeeded) {
    const channel = result.channel; // Handle channel
    joined = channel; // harness
  }

  if (result.failed) {
    const error = result.error; // Handle error
    throw new Error(JSON.stringify(error)); // harness: fail the step
  }
  check(joined.id === channelId && joined._actions.leave && !joined._actions.join, 'joined maps');
  check(joinedChannels.some((c) => c.id === channelId), 'onChannelJoined did not fire');
  check(joinedChannels.filter((c) => c.id === channelId).length === 1, 'onChannelJoined fired twice');
  channel = joined; // harness
});

// --- messages, live chat sessions, unread state -------------------------------------------------

await step('startChatSession + sendMessage: live onMessageReceived between two users', async () => {
  const janeGot = deferred();
  const johnGot = deferred();
  const janeSession = chatkitty.startChatSession({
    channel: directChannel,
    onMessageReceived: (message) => {
      if (message.user?.name === 'john@chatkitty.com') janeGot.resolve(message);
    },
  });
  const johnSession = john.startChatSession({
    channel: directChannel,
    onMessageReceived: (message) => {
      if (message.user?.name === 'jane@chatkitty.com') johnGot.resolve(message);
    },
  });
  succeeded(janeSession, 'startChatSession');
  succeeded(johnSession, 'startChatSession');
  await sleep(300); // the SDK gives no "ready" signal for chat session subscriptions

  const sent = await john.sendMessage({ channel: directChannel, body: 'Hello Jane!' });
  succeeded(sent, 'sendMessage');
  check(sent.message.body === 'Hello Jane!', 'sent message body');
  const received = await janeGot.promise;
  check(received.body === 'Hello Jane!' && received.channelId === directChannel.id, 'received');

  const reply = await chatkitty.sendMessage({ channel: directChannel, body: 'Hi John!' });
  succeeded(reply, 'sendMessage');
  const back = await johnGot.promise;
  check(back.body === 'Hi John!', 'john did not receive the reply');
  janeSession.session.end();
  johnSession.session.end();
  return `message ${received.id} and ${back.id}`;
});

await step('listMessages({ channel })', async () => {
  const result = await chatkitty.listMessages({ channel: directChannel });
  succeeded(result, 'listMessages');
  const bodies = result.paginator.items.map((m) => m.body);
  check(bodies.includes('Hello Jane!') && bodies.includes('Hi John!'), `bodies: ${bodies}`);
  return bodies.join(' | ');
});

await step('countUnreadMessages(), checkChannelUnread (doc) and readChannel (doc)', async () => {
  const more = await john.sendMessage({ channel: directChannel, body: 'Are you there?' });
  succeeded(more, 'sendMessage');

  const before = await chatkitty.countUnreadMessages();
  succeeded(before, 'countUnreadMessages');
  check(before.count === 1, `unread count before reading: ${before.count}`);
  const inChannel = await chatkitty.countUnreadMessages({ channel: directChannel });
  succeeded(inChannel, 'countUnreadMessages({ channel })');
  check(inChannel.count === 1, `channel unread count: ${inChannel.count}`);

  let channel = directChannel; // harness: the snippets act on the DIRECT channel
  let unreadBefore; // harness
  {
    const result = await chatkitty.checkChannelUnread({
      channel: channel,
    });

    if (result.succeeded) {
      const unread = result.unread; // Handle if unread
      unreadBefore = unread; // harness
    }
  }
  check(unreadBefore === true, 'the channel should be unread');

  {
    const result = await chatkitty.readChannel({ channel });

    if (result.succeeded) {
      const channel = result.channel; // Handle channel
    }

    if (result.failed) {
      const error = result.error; // Handle error
      throw new Error(JSON.stringify(error)); // harness: fail the step
    }
  }

  const after = await chatkitty.checkChannelUnread({ channel });
  succeeded(after, 'checkChannelUnread');
  check(after.unread === false, 'the channel is still unread after readChannel');
  const count = await chatkitty.countUnreadMessages();
  check(count.succeeded && count.count === 0, `unread count after reading: ${count.count}`);
  return `unread ${before.count} -> ${count.count}`;
});

await step('listChannelMembers({ channel })', async () => {
  const result = await chatkitty.listChannelMembers({ channel: directChannel });
  succeeded(result, 'listChannelMembers');
  const names = result.paginator.items.map((u) => u.name).sort();
  check(
    JSON.stringify(names) === JSON.stringify(['jane@chatkitty.com', 'john@chatkitty.com']),
    `members: ${names}`,
  );
  return names.join(', ');
});

await step('typing: sendKeystrokes reaches the other chat session', async () => {
  const typing = deferred();
  const janeSession = chatkitty.startChatSession({
    channel: directChannel,
    onTypingStarted: (user) => typing.resolve(user),
  });
  succeeded(janeSession, 'startChatSession');
  await sleep(300);
  john.sendKeystrokes({ channel: directChannel, keys: 'Hel' });
  const user = await typing.promise;
  check(user.name === 'john@chatkitty.com', `typing user: ${user.name}`);
  janeSession.session.end();
  return `${user.name} is typing`;
});

await step('leaveChannel({ channel })', async () => {
  const result = await chatkitty.leaveChannel({ channel });
  succeeded(result, 'leaveChannel');
  const joined = await chatkitty.listChannels({ filter: { joined: true } });
  succeeded(joined, 'listChannels');
  check(!joined.paginator.items.some((c) => c.id === channel.id), 'still a member after leaving');
});

await step('deleteChannel (doc)', async () => {
  let channel = privateChannel; // harness: delete jane's PRIVATE channel
  let deleted = false; // harness
  const result = await chatkitty.deleteChannel({
    channel: channel,
  });

  if (result.succeeded) {
    // Handle result
    deleted = true; // harness
  }
  check(deleted, `deleteChannel failed: ${JSON.stringify(result.error)}`);
  const again = await chatkitty.retrieveChannel(channel.id);
  check(again.failed, 'the deleted channel can still be retrieved');
});

// --- failures -----------------------------------------------------------------------------------

await step('retrieveChannel of a missing channel gives a failed result', async () => {
  const result = await chatkitty.retrieveChannel(987654321);
  check(result.failed && !result.succeeded, 'expected a failed result');
  check(typeof result.error?.error === 'string', `error: ${JSON.stringify(result.error)}`);
  return result.error.error;
});

await step('sendMessage to a channel jane left gives a failed result', async () => {
  const result = await chatkitty.sendMessage({ channel, body: 'after leaving' });
  check(result.failed, 'sending to a channel jane left should fail');
  return result.error.error;
});

await step('guest session (no auth params) where the application allows guests', async () => {
  const guest = await connectApi({ apiKey: API_KEY, username: 'guest-visitor', $environment });
  const user = guest.user.value;
  await guest.dispose();
  check(user?.isGuest === true && user.name === 'guest-visitor', `guest: ${JSON.stringify(user)}`);
});

await step('a guest cannot take a registered username: AccessDeniedError', async () => {
  try {
    const connection = await connectApi({ apiKey: API_KEY, username: 'jane@chatkitty.com', $environment });
    await connection.dispose();
  } catch (error) {
    return error.message;
  }
  throw new Error('connected as jane without a token');
});

await step('an unknown API key: startSession fails with AccessDeniedError', async () => {
  const stranger = getSdkClient('no-such-api-key', { $environment });
  const result = await stranger.startSession({ username: 'jane@chatkitty.com' });
  check(result.failed && result.error?.error === 'AccessDeniedError', JSON.stringify(result.error));
  return result.error.message;
});

await step('a wrong access token: AccessDeniedError', async () => {
  try {
    const connection = await connectApi({
      apiKey: API_KEY,
      username: 'john@chatkitty.com',
      authParams: { accessToken: 'ckut_not-a-token' },
      $environment,
    });
    await connection.dispose();
  } catch (error) {
    return error.message;
  }
  throw new Error('connected with a wrong token');
});

await step('endSession', async () => {
  await chatkitty.endSession();
  await johnConnection.dispose();
});

console.log(`SUMMARY ${passed}/${passed + failed}`);
process.exit(failed ? 1 : 0);
