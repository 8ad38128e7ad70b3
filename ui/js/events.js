// Live events: one EventSource on /events/stream for the whole session,
// fanned out to subscribers by type, with a short memory of recent events.

import { tokenUrl, getToken, request } from './api.js';
import { check as checkReachable } from './reachability.js';

// The daemon names each SSE event after its type, and EventSource only
// delivers named events to listeners of that name: these are the ones the
// daemon sends today ('message' catches any unnamed one).
const TYPES = [
  'approval_requested', 'approval_resolved', 'identity_state', 'audit',
  'file_added', 'file_updated', 'file_deleted', 'file_conflict',
  'vault_created', 'vault_changed', 'vault_deleted', 'lagged', 'message',
  'peer_connected', 'peer_disconnected', 'network_changed', 'replication_progress', 'profile_changed',
  'agent_message', 'agent_presence', 'agent_device',
  'agent_room', 'agent_room_text', 'agent_room_activity', 'agent_held_message', 'agent_policy_notify',
  'a2a_channel', 'hub_federation',
  'media_scan_progress', 'library_changed', 'library_plays',
  'agent_session',
];
const KEEP = 100;

let source = null;
let retryTimer = null;
const listeners = new Set();
const recent = [];
const statusListeners = new Set();
let connected = false;

function setConnected(value) {
  if (connected === value) return;
  connected = value;
  for (const fn of statusListeners) fn(value);
}

function dispatch(event) {
  let envelope;
  try {
    envelope = JSON.parse(event.data);
  } catch {
    return;
  }
  if (!envelope || typeof envelope !== 'object') return;
  if (!envelope.type) envelope.type = event.type || 'message';
  if (!envelope.ts_ms) envelope.ts_ms = Date.now();
  recent.unshift(envelope);
  recent.length = Math.min(recent.length, KEEP);
  for (const { types, fn } of listeners) {
    if (!types || types.includes(envelope.type)) {
      try {
        fn(envelope);
      } catch (err) {
        console.error(err);
      }
    }
  }
}

/** Open the stream (idempotent). Reconnects by itself after errors. */
export function start() {
  if (source || !getToken()) return;
  clearTimeout(retryTimer);
  source = new EventSource(tokenUrl('/events/stream'));
  source.addEventListener('open', () => setConnected(true));
  for (const type of TYPES) source.addEventListener(type, dispatch);
  source.addEventListener('error', () => {
    setConnected(false);
    checkReachable();
    if (source && source.readyState === EventSource.CLOSED) {
      // Refused (maybe the session ended): check the session, then retry;
      // a daemon that does not answer is retried too (a 401 logs out).
      source = null;
      request('GET', '/whoami').then(
        () => { retryTimer = setTimeout(start, 3000); },
        (err) => { if (err.status === 0) retryTimer = setTimeout(start, 3000); },
      );
    }
  });
}

/** Close the stream (logout). */
export function stop() {
  clearTimeout(retryTimer);
  if (source) source.close();
  source = null;
  recent.length = 0;
  setConnected(false);
}

/**
 * subscribe(['approval_requested'], fn) or subscribe(null, fn) for all.
 * Returns the function that unsubscribes.
 */
export function subscribe(types, fn) {
  const entry = { types, fn };
  listeners.add(entry);
  return () => listeners.delete(entry);
}

/** Recent events, newest first. */
export function recentEvents() {
  return [...recent];
}

/** Follow the connection state: fn(connected) now and on each change. */
export function onConnection(fn) {
  statusListeners.add(fn);
  fn(connected);
  return () => statusListeners.delete(fn);
}
