import type { Compilable, CompiledQuery, Kysely, QueryResult, Transaction } from 'kysely';

type Executor<DB> = Kysely<DB> | Transaction<DB>;

/** Stand-in values the query is built with; each becomes one parameter of the compiled SQL. */
const STAND_IN = '\u0000prepared-value:';

type Slot<Values> = { name: keyof Values } | { constant: unknown };

/**
 * A query kysely builds and compiles once per database, then runs with new values. Building and compiling
 * anew is most of what a short statement costs in Node (measured: about a fifth of the CPU of a saturated
 * delivery run, docs/benchmarks.md), and the statements of the delivery hot path never change shape.
 *
 * `build` receives a stand-in for each named value; every one must reach the SQL as a parameter (not as a
 * list, which would change the shape). Values the query holds itself stay as they were compiled.
 */
export class PreparedQuery<DB, Values extends Record<string, unknown>, Row = never> {
  // Keyed by the dialect adapter: a database and its transactions share it, and so share the SQL.
  private readonly compiled = new WeakMap<object, { query: CompiledQuery<Row>; slots: Slot<Values>[] }>();

  constructor(
    private readonly names: ReadonlyArray<keyof Values>,
    private readonly build: (db: Executor<DB>, values: Values) => Compilable<Row>,
  ) {}

  execute(executor: Executor<DB>, values: Values): Promise<QueryResult<Row>> {
    const { query, slots } = this.compile(executor);
    const parameters = slots.map((slot) => ('name' in slot ? values[slot.name] : slot.constant));
    return executor.executeQuery<Row>({ ...query, parameters });
  }

  private compile(executor: Executor<DB>) {
    const adapter = executor.getExecutor().adapter;
    let entry = this.compiled.get(adapter);
    if (!entry) {
      const standIns = Object.fromEntries(this.names.map((name) => [name, `${STAND_IN}${String(name)}`]));
      const query = this.build(executor, standIns as Values).compile();
      const slots = query.parameters.map((parameter): Slot<Values> =>
        typeof parameter === 'string' && parameter.startsWith(STAND_IN)
          ? { name: parameter.slice(STAND_IN.length) as keyof Values }
          : { constant: parameter },
      );
      const missing = this.names.filter(
        (name) => !slots.some((slot) => 'name' in slot && slot.name === name),
      );
      if (missing.length > 0)
        throw new Error(`prepared query: ${missing.join(', ')} did not become parameters of ${query.sql}`);
      entry = { query, slots };
      this.compiled.set(adapter, entry);
    }
    return entry;
  }
}
