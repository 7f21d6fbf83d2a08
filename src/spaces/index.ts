import { darts } from './darts.js';
import { nafbeeVgg19 } from './nafbee.js';
import { nafbeeBert } from './nafbee-bert.js';
import { nb201 } from './nb201.js';
import { nds } from './nds.js';
import { sss } from './sss.js';
import { transnasMacro, transnasMicro } from './transnas.js';
import { type Space, SpaceError } from './types.js';

const SPACES: Space[] = [nb201, sss, transnasMicro, transnasMacro, nafbeeVgg19, nafbeeBert, darts, nds];

export function registerSpace(s: Space): void {
  if (!SPACES.some((x) => x.name === s.name)) SPACES.push(s);
}

export function spaceNames(): string[] {
  return SPACES.map((s) => s.name);
}

export function getSpace(name: string): Space {
  const s = SPACES.find((x) => x.name === name);
  if (!s) throw new SpaceError(`unknown space "${name}"; choose one of ${spaceNames().join(', ')}`);
  return s;
}

export type { Space } from './types.js';
