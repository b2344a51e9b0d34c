/**
 * Requests a cluster client makes to Redis without a caller awaiting them: withdrawing the jobs of
 * aborted calls, removing the records of results it has read. What fails goes to the client's
 * `onError`; closing the client waits for what is still in flight.
 */
export class BackgroundRequests {
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly onError: (error: Error) => void) {}

  /** Tracks `request`; if it fails, `onError` gets an Error of message `failure` caused by it. */
  add(request: Promise<unknown>, failure: string): void {
    const tracked = request.then(
      () => {},
      (error: unknown) => this.onError(new Error(failure, { cause: error })),
    );
    this.inFlight.add(tracked);
    void tracked.finally(() => this.inFlight.delete(tracked));
  }

  /** Resolves once every request added so far has ended. */
  settled(): Promise<unknown> {
    return Promise.allSettled(this.inFlight);
  }
}
