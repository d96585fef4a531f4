/**
 * The offsets of one file's records that were handed to the shipper but not yet acknowledged,
 * and their minimum: the checkpoint may not pass the first unacknowledged record.
 *
 * Records leave in the order they were added (the shipper writes batches in order), but their
 * offsets are not monotonic: a stderr stack trace still being joined is emitted after stdout
 * lines that follow it in the file. A monotonic deque keeps the minimum in O(1) amortised.
 */
export class UnackedOffsets {
  /** Candidates for the minimum: offsets increasing from the head, each with its ticket. */
  #tickets: number[] = [];
  #offsets: number[] = [];
  #head = 0;
  #nextTicket = 0;
  #nextAck = 0;

  /** Registers a record; the ticket is passed back to `ack`. */
  add(offset: number): number {
    while (this.#offsets.length > this.#head && this.#offsets[this.#offsets.length - 1]! >= offset) {
      this.#offsets.pop();
      this.#tickets.pop();
    }
    const ticket = this.#nextTicket++;
    this.#offsets.push(offset);
    this.#tickets.push(ticket);
    return ticket;
  }

  /** Acknowledges the oldest record; tickets must come back in the order they were issued. */
  ack(ticket: number): void {
    if (ticket !== this.#nextAck) throw new Error(`acknowledgement out of order: ticket ${ticket}, expected ${this.#nextAck}`);
    this.#nextAck++;
    if (this.#head < this.#tickets.length && this.#tickets[this.#head] === ticket) {
      this.#head++;
      if (this.#head > 1024 && this.#head * 2 > this.#tickets.length) {
        this.#tickets = this.#tickets.slice(this.#head);
        this.#offsets = this.#offsets.slice(this.#head);
        this.#head = 0;
      }
    }
  }

  /** Smallest offset not yet acknowledged, or undefined when everything is. */
  min(): number | undefined {
    return this.#head < this.#offsets.length ? this.#offsets[this.#head] : undefined;
  }

  /** Records added and not yet acknowledged. */
  get size(): number {
    return this.#nextTicket - this.#nextAck;
  }
}
