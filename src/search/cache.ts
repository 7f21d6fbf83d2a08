/**
 * Score cache in SQLite: one row per (space, build options, arch, proxy + settings, image batch, seed).
 * Each score is committed as soon as it is computed (WAL), so a killed run loses at most the
 * networks in flight and a rerun picks up where it stopped.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { DataError } from '../util/errors.js';

/** bump when the table layout changes */
const SCHEMA_VERSION = 1;

export interface CacheContext {
  space: string;
  /** build options + dataset, serialised */
  build: string;
  images: string;
  seed: string;
}

export interface CachedScore {
  value: number;
  note?: string;
  /** wall time of the network computation that produced it (with the proxies computed alongside), ms */
  ms: number;
  /** when it was stored (ISO) */
  created: string;
}

export class ScoreCache {
  private readonly db: Database.Database;
  private readonly getStmt: Database.Statement;
  private readonly putStmt: Database.Statement;

  constructor(
    readonly path: string,
    private readonly ctx: CacheContext,
  ) {
    let db: Database.Database | undefined;
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
      db = new Database(path);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      const hasTable = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'scores'").get() !== undefined;
      const version = db.pragma('user_version', { simple: true }) as number;
      if (hasTable && version !== SCHEMA_VERSION) {
        throw new Error(`it holds cache format ${version}, this rbflex writes format ${SCHEMA_VERSION}; delete the file`);
      }
      db.exec(`CREATE TABLE IF NOT EXISTS scores (
        space TEXT NOT NULL, build TEXT NOT NULL, images TEXT NOT NULL, seed TEXT NOT NULL,
        proxy TEXT NOT NULL, arch TEXT NOT NULL,
        value REAL, note TEXT, ms REAL, created TEXT NOT NULL,
        PRIMARY KEY (space, build, images, seed, proxy, arch)
      )`);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
      this.getStmt = db.prepare(
        'SELECT value, note, ms, created FROM scores WHERE space=? AND build=? AND images=? AND seed=? AND proxy=? AND arch=?',
      );
      this.putStmt = db.prepare(
        `INSERT OR REPLACE INTO scores (space, build, images, seed, proxy, arch, value, note, ms, created)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      this.db = db;
    } catch (e) {
      db?.close();
      throw new DataError(path, `cannot use the score cache (${e instanceof Error ? e.message : String(e)}); choose another --cache-dir or pass --no-cache`);
    }
  }

  /**
   * Value for a proxy key, or undefined when not cached. -Infinity round-trips. `ms` and `created`
   * say how long the computation that stored it took and when: the proxies of one arch computed
   * together share one row time (`put`), so a computation is counted once by its (created, ms) pair.
   */
  get(proxyKey: string, arch: string): CachedScore | undefined {
    const c = this.ctx;
    const row = this.getStmt.get(c.space, c.build, c.images, c.seed, proxyKey, arch) as
      | { value: number | null; note: string | null; ms: number | null; created: string }
      | undefined;
    if (!row || row.value === null) return undefined;
    return { value: row.value, ...(row.note ? { note: row.note } : {}), ms: row.ms ?? 0, created: row.created };
  }

  /** store several proxies' values of one arch in one transaction; `ms` is the time of computing them all */
  put(arch: string, entries: { proxyKey: string; value: number; note?: string }[], ms: number): void {
    const c = this.ctx;
    const now = new Date().toISOString();
    this.db.transaction(() => {
      for (const e of entries) {
        if (Number.isNaN(e.value)) continue;
        this.putStmt.run(c.space, c.build, c.images, c.seed, e.proxyKey, arch, e.value, e.note ?? null, ms, now);
      }
    })();
  }

  close(): void {
    this.db.close();
  }
}
