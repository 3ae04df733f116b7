'use strict';

function words(s) {
  return s
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean);
}

function camelCase(s) {
  return words(s)
    .map((w, i) => (i === 0 ? w.toLowerCase() : w[0].toUpperCase() + w.slice(1).toLowerCase()))
    .join('');
}

function snakeCase(s) {
  return words(s).map((w) => w.toLowerCase()).join('_');
}

function kebabCase(s) {
  return words(s).map((w) => w.toLowerCase()).join('-');
}

module.exports = { words, camelCase, snakeCase, kebabCase };
