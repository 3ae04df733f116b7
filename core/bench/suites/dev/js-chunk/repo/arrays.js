function flatten(arrays) {
  return [].concat(...arrays);
}

module.exports = { flatten };
