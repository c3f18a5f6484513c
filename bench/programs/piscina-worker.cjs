// The task piscina runs in bench/programs/piscina.cjs.
module.exports = (x) => x * x;
