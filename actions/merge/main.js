// For @github/local-action: exports run() for the merge mode.
'use strict';
const { run_action } = require('../dist/main.js');
module.exports = { run: () => run_action('merge') };
