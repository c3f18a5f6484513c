// Every op code a broker frame carries (its u8 `op`), in one place so no two families can take the same
// number. Ops below 16 belong to the transport; 16–127 go to a served object, one block of 8 or 16 per
// family; 128+ are pushes to a subscriber. test/unit/brokerOps.test.ts checks codes are unique and in range.
// Imported by the broker and by every served object (queues, doorbell, sync primitives, pipes).

// ---- Transport (1–15): handled by the peer itself ------------------------------------------------

export const OP_HELLO = 1;
export const OP_REPLY = 2;
export const OP_ERROR = 3;
/** A request carrying the descriptor of the sender's ring (JSON); the reply says it is mapped. */
export const OP_RING = 4;
/**
 * A frame carrying a tail (u32) of the sender's ring: take its frames up to there. Never answered: a
 * reply could reach a sender that just exited, and the EPIPE would make us drop what it sent last.
 */
export const OP_DOORBELL = 5;

// ---- Queues (16–23): queues.ts, the owner-held queue -----------------------------------------------

/** Unbounded: no reply, the write is the acknowledgement. */
export const OP_QUEUE_PUT = 16;
/** Bounded: replied once the item is in. */
export const OP_QUEUE_PUT_WAIT = 17;
export const OP_QUEUE_GET = 18;
export const OP_QUEUE_TASK_DONE = 19;
export const OP_QUEUE_JOIN = 20;
/** A consumer read the item its get() was answered with: the owner forgets it (else redelivers it if the consumer dies). */
export const OP_QUEUE_GOT = 21;

// ---- Doorbell (24–31): broker/doorbell.ts, sleeping on shared-memory queues ------------------------

/** A request: payload u8 kind; answered (replied) when the sleeper should look again. */
export const OP_DOORBELL_SLEEP = 24;
/** Payload u8 kind: something changed that may end sleeps of that kind. Never answered. */
export const OP_DOORBELL_RING = 25;

// ---- Synchronization primitives (32–47): sync/, the owner-held lock, semaphore, event… ------------

export const OP_ACQUIRE = 32;
export const OP_RELEASE = 33;
export const OP_EVENT_WAIT = 34;
export const OP_EVENT_SET = 35;
export const OP_COND_WAIT = 36;
export const OP_NOTIFY = 37;
export const OP_BARRIER_WAIT = 38;
export const OP_BARRIER_ABORT = 39;
export const OP_BARRIER_RESET = 40;
/** Answered at once: frames from one peer are handled in order, so its earlier OP_COND_WAIT is enlisted. */
export const OP_COND_ENLISTED = 41;

// ---- Pipes (48–63): connection.ts, the pipe directory and each copy of an end ----------------------

/** To a copy, or to the directory for a copy not yet attached. */
export const OP_PIPE_DATA = 48;
export const OP_PIPE_ATTACH = 49;
export const OP_PIPE_CLOSE = 50;
export const OP_PIPE_DUP = 51;
/** Unread messages a copy handed to its duplicate: already in order, not counted. */
export const OP_PIPE_BACKLOG = 52;
/** A copy made elsewhere for one receiver that is gone before reviving it. */
export const OP_PIPE_RELEASE = 53;
/** An unread message of a copy that closed: to another copy of that end. */
export const OP_PIPE_RETURN = 54;

// ---- Pushes (128–255): unrequested frames to a subscriber ------------------------------------------

export const FIRST_PUSH_OP = 128;
/** Directory to a copy: where the other end's newest copy now receives. */
export const PUSH_PIPE_ROUTE = FIRST_PUSH_OP + 1;
/** Directory to a copy: the other end is closed everywhere. */
export const PUSH_PIPE_EOF = FIRST_PUSH_OP + 2;

/** The blocks above, for the uniqueness test and for anyone adding a family: [first, last] inclusive. */
export const OP_RANGES = {
  transport: [1, 15],
  queue: [16, 23],
  doorbell: [24, 31],
  sync: [32, 47],
  pipe: [48, 63],
  push: [128, 255],
} as const;
