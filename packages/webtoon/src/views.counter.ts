/** Views of one episode counted in a window. */
export interface EpisodeViews {
  readonly seriesId: string;
  views: number;
}

/** What a flush writes: the counts of a window, by episode id. */
export interface ViewWindow {
  readonly start: Date;
  readonly end: Date;
  readonly counts: ReadonlyMap<string, EpisodeViews>;
}

/**
 * Counts reads in memory so that the read path never writes: a flush takes the
 * window's counts and writes them in one transaction. A window whose write
 * failed is put back, so no view is lost, only counted later.
 */
export class ViewCounter {
  private counts = new Map<string, EpisodeViews>();
  private windowStart: number;

  constructor(private readonly now: () => number = Date.now) {
    this.windowStart = now();
  }

  /** Views counted and not yet taken. */
  get pending(): number {
    let total = 0;
    for (const entry of this.counts.values()) total += entry.views;
    return total;
  }

  record(episodeId: string, seriesId: string): void {
    const entry = this.counts.get(episodeId);
    if (entry === undefined) this.counts.set(episodeId, { seriesId, views: 1 });
    else entry.views += 1;
  }

  /** The counts since the last take, starting a new window; undefined when nothing was read. */
  take(): ViewWindow | undefined {
    const end = this.now();
    const start = this.windowStart;
    this.windowStart = end;
    if (this.counts.size === 0) return undefined;
    const counts = this.counts;
    this.counts = new Map();
    return { start: new Date(start), end: new Date(end), counts };
  }

  /** Puts back a window that could not be written; the next take covers it too. */
  restore(window: ViewWindow): void {
    for (const [episodeId, { seriesId, views }] of window.counts) {
      const entry = this.counts.get(episodeId);
      if (entry === undefined) this.counts.set(episodeId, { seriesId, views });
      else entry.views += views;
    }
    this.windowStart = Math.min(this.windowStart, window.start.getTime());
  }
}
