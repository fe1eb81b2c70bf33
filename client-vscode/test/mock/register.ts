/** Makes `require('vscode')` load the mock. Import first in every test file. */
import Module from 'node:module';
import * as path from 'node:path';

interface ResolvingModule {
  _resolveFilename(request: string, parent: unknown, ...rest: unknown[]): string;
}

const mod = Module as unknown as ResolvingModule;
const original = mod._resolveFilename.bind(mod);
const mockPath = path.join(__dirname, 'vscode.js');

mod._resolveFilename = (request: string, parent: unknown, ...rest: unknown[]): string =>
  request === 'vscode' ? mockPath : original(request, parent, ...rest);
