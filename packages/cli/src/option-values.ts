import { InvalidArgumentError } from 'commander';

/** A commander value parser for a whole-number option; a bad value names the option and what was given. */
export const wholeNumber = (name: string) => (value: string) => {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${name} takes a whole number; got "${value}"`);
  return Number(value);
};
