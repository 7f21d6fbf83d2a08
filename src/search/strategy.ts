/**
 * Search strategies behind one interface: `random` (the paper's protocol: each trial scores S
 * random architectures and picks the best) and `evolution` (regularised evolution with the proxy
 * as fitness, S networks scored per trial). Both return the same SearchResult, so the CLI and
 * reports do not care which ran.
 */
import { type EvolutionOptions, runEvolution } from './evolution.js';
import { type SearchInput, type SearchResult, runSearch } from './protocol.js';

export const STRATEGY_NAMES = ['random', 'evolution'] as const;
export type StrategyName = (typeof STRATEGY_NAMES)[number];

export interface StrategyInput extends SearchInput {
  evolution?: EvolutionOptions;
  /** progress in networks (evolution; random search reports through the scoring session) */
  onProgress?: (done: number, total: number) => void;
}

export interface SearchStrategy {
  readonly name: StrategyName;
  readonly description: string;
  run(o: StrategyInput): Promise<SearchResult>;
}

export const STRATEGIES: Record<StrategyName, SearchStrategy> = {
  random: {
    name: 'random',
    description: 'the paper protocol: sample S architectures per trial, pick the best score',
    run: (o) => runSearch(o),
  },
  evolution: {
    name: 'evolution',
    description: 'regularised evolution (aging, tournament, one-step mutation), S networks scored per trial',
    run: (o) => runEvolution(o),
  },
};
