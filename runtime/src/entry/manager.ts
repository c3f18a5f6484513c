// Entry of the manager server process (runtime/dist/manager.cjs). It loads the shared runtime bundle (index.cjs,
// never a second copy: a second copy's isMainProcess() would be true when the program's modules load here, and
// they would run the program again) and hands over to the server (managers/serverProcess.ts).
import { _runManagerServer } from '../bundle';

_runManagerServer();
