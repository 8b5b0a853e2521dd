// Entry point of the polyarch merge action (runs.main): see ../dist/main.js.
'use strict';
require('../dist/main.js').run_action('merge');
