#!/usr/bin/env node
// The installed command: `plait [options]` starts the server, `plait token ...` mints a token.
import '../dist/plait.mjs'
