/** A set of the last `limit` ids added (the oldest forgotten first), so a long-running service stays bounded. */
export class RecentIds {
  private readonly ids = new Set<string>();

  constructor(
    private readonly limit: number,
    initial: Iterable<string> = [],
  ) {
    for (const id of initial) this.add(id);
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  add(id: string): void {
    // Re-adding moves it to the newest end.
    this.ids.delete(id);
    this.ids.add(id);
    if (this.ids.size > this.limit) this.ids.delete(this.ids.values().next().value!);
  }
}
