// The agent hub's pages share one tab bar under the Agents entry of the
// navigation: each page puts it under its title with `hubTabs('rooms')`.

import { h } from './dom.js';

export const HUB_TABS = [
  ['agents', 'Agents'],
  ['sessions', 'Sessions'],
  ['rooms', 'Rooms'],
  ['policies', 'Policies'],
  ['decisions', 'Decisions'],
  ['api-keys', 'API keys'],
  ['identities', 'Identities'],
  ['a2a', 'A2A channels'],
  ['telemetry', 'Telemetry'],
  ['trust', 'Trust'],
];

/** The tab bar, with `current` (a page name) marked as the page shown. */
export function hubTabs(current) {
  return h('nav', { class: 'hub-tabs', 'aria-label': 'Agent hub' },
    h('ul', {}, ...HUB_TABS.map(([name, label]) => h('li', {},
      h('a', { href: `#/${name}`, text: label, 'aria-current': name === current ? 'page' : null })))));
}
