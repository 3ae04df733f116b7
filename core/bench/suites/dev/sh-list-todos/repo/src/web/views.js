// TODO: escape HTML
function render(x) { return x; }
