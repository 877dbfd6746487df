/**
 * Conditional writes in flight, for S3's 409 `ConditionalRequestConflict`: a
 * conditional PutObject holds its key from the moment the request arrives
 * until it commits. Another conditional put on the same key meanwhile is the
 * loser (409), and so is the holder when some other write or delete of the key
 * commits before it does — the two conflicts S3's documentation names.
 */

/** One conditional write holding a key. */
export interface InFlightWrite {
  readonly id: string;
  /** Set when another write or delete of the key committed while this one was in flight. */
  disturbed: boolean;
}

/** The keys held by conditional writes, by `bucket/key`. */
export class ConditionalWritesInFlight {
  #held = new Map<string, InFlightWrite>();

  /** Takes the key for a conditional write; undefined when another one holds it (the caller loses). */
  begin(bucket: string, key: string): InFlightWrite | undefined {
    const id = `${bucket}/${key}`;
    if (this.#held.has(id)) return undefined;
    const write = { id, disturbed: false };
    this.#held.set(id, write);
    return write;
  }

  /** Releases the key; true when nothing else touched it meanwhile. */
  end(write: InFlightWrite): boolean {
    if (this.#held.get(write.id) === write) this.#held.delete(write.id);
    return !write.disturbed;
  }

  /** Records that some other request committed a change to the key. */
  touched(bucket: string, key: string): void {
    const write = this.#held.get(`${bucket}/${key}`);
    if (write) write.disturbed = true;
  }
}
