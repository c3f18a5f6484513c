// Entry of every child process and worker thread the runtime starts (runtime/dist/child.cjs).
// It loads the shared runtime bundle (index.cjs, never a second copy) and hands over to its bootstrap.
import { _runChild } from '../bundle';

_runChild();
