// Seed 004: concurrent.futures.ProcessPoolExecutor().map(is_prime, PRIMES).
import { ProcessPoolExecutor, isMainProcess } from 'forkscope';

const PRIMES = [112272535095293, 112582705942171, 112272535095293, 115280095190773, 115797848077099, 1099726899285419];

export function isPrime(n: number): boolean {
  if (n < 2) return false;
  if (n === 2) return true;
  if (n % 2 === 0) return false;
  const sqrtN = Math.floor(Math.sqrt(n));
  for (let i = 3; i <= sqrtN; i += 2) if (n % i === 0) return false;
  return true;
}

async function main(): Promise<void> {
  await using executor = new ProcessPoolExecutor();
  const results = await executor.map(isPrime, PRIMES);
  PRIMES.forEach((number, i) => console.log(`${number} is prime: ${results[i] ? 'True' : 'False'}`));
}

if (isMainProcess()) void main();
