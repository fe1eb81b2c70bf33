/** Ids of other extensions tracecot uses when they are installed (never required). */
export const PYTHON_EXTENSION_ID = 'ms-python.python';
export const DEBUGPY_EXTENSION_ID = 'ms-python.debugpy';
