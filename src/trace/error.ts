/** A trace that cannot be read as one of the formats, or a bad request about it: the CLI prints its message on one line and exits 2. */
export class TraceError extends Error {}
