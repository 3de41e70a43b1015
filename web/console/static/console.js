// Niceties only: every page works without this script.
'use strict';
document.addEventListener('DOMContentLoaded', () => {
  // The menu stays open on wide screens, where it is a bar.
  const menu = document.getElementById('menu');
  const wide = window.matchMedia('(min-width: 760px)');
  const sync = () => { if (menu) menu.open = wide.matches; };
  wide.addEventListener('change', sync);
  sync();
});
