// Entry point of the polyarch action (runs.main): see main.js.
'use strict';
require('./main.js').run_action('build');
