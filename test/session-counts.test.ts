/**
 * A session counts each distinct network once, however often it meets it: evolution scores its
 * population again and again, and its report line "N scored, M from the cache" must add up to the
 * distinct networks of the run.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gaussianImages } from './helpers/fixtures.js';
import { ScoringSession } from '../src/search/session.js';
import { nb201 } from '../src/spaces/nb201.js';

const [A, B, C] = [11, 2222, 4444].map((i) => nb201.archAt(i));

test('scored and cached count distinct networks: met again in a later call, an arch adds nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rbflex-counts-'));
  const open = () => new ScoringSession({ space: 'nb201', images: gaussianImages(3, 32, 'counts'), seed: 'counts', workers: 0, proxies: ['naswot'], cachePath: join(dir, 'c.sqlite') });
  try {
    const s = open();
    await s.score([A!, B!]);
    await s.score([A!, C!]);
    await s.score([B!]);
    assert.deepEqual([s.scored, s.cached], [3, 0], 'three distinct networks computed, none from the cache');
    await s.close();
    const t = open();
    await t.score([A!]);
    await t.score([A!, B!]);
    assert.deepEqual([t.scored, t.cached], [0, 2], 'two distinct networks, both from the cache of the first session');
    await t.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
