'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { camelCase, snakeCase, kebabCase } = require('../src/case');

test('camelCase starts lower-case', () => {
  assert.strictEqual(camelCase('hello_world-foo'), 'helloWorldFoo');
  assert.strictEqual(camelCase('Make It Work'), 'makeItWork');
  assert.strictEqual(camelCase('already camelCase'), 'alreadyCamelCase');
});

test('snake and kebab', () => {
  assert.strictEqual(snakeCase('helloWorld foo'), 'hello_world_foo');
  assert.strictEqual(kebabCase('Hello World'), 'hello-world');
});
