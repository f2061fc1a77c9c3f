import type { Cluster, Redis } from 'ioredis';

type RedisClient = Redis | Cluster;

/** How an ARGV value reaches the script: as a Lua number (`tonumber`), or the string sent. */
type ArgType = 'number' | 'string';
type ArgTypes = Record<string, ArgType>;
type ArgValues<A extends ArgTypes> = {
  [N in keyof A]: A[N] extends 'number' ? number : string;
};
/** One entry of a script's repeated tail: its keys and its arguments, by name. */
type ItemValues<K extends string, A extends ArgTypes> = Record<K, string> & ArgValues<A>;

type Call<K extends string, A extends ArgTypes, IK extends string, IA extends ArgTypes> = {
  keys: Record<K, string>;
  args: ArgValues<A>;
  /** The repeated tail, for a script declared with `each`. */
  items?: Array<ItemValues<IK, IA>>;
};

const LUA_RESERVED = new Set(
  (
    'and break do else elseif end false for function goto if in local nil not or repeat ' +
    'return then true until while KEYS ARGV redis cjson itemCount'
  ).split(' '),
);

function checkName(script: string, name: string) {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || LUA_RESERVED.has(name)) {
    throw new Error(`${script}: "${name}" cannot be a Lua local`);
  }
}

const read = (type: ArgType, at: string) => (type === 'number' ? `tonumber(${at})` : at);

/**
 * A Redis Lua script whose KEYS and ARGV have names, declared once and in order. The body
 * reads them as Lua locals of those names (the `local inflight = KEYS[1]` lines are
 * generated from the declaration), and a call site passes objects, so neither side counts
 * positions and an argument added later cannot shift the others.
 *
 * `each` declares a repeated tail (a batch of jobs): the body gets `itemCount` and, for each
 * name, a function of the item's index (`job(i)`), and a call passes `items`.
 *
 * Defined on a connection (`define`; core's createRedis does it for the scripts on hot paths) it
 * runs by EVALSHA and joins auto-pipelines; otherwise `run` sends it with EVAL.
 */
export function luaScript<
  const K extends string,
  const A extends ArgTypes,
  R,
  const IK extends string = never,
  const IA extends ArgTypes = Record<never, ArgType>,
>(spec: {
  /** The ioredis command name; unique among the archiver's scripts. */
  name: string;
  keys: readonly K[];
  args: A;
  each?: { keys: readonly IK[]; args: IA };
  /** Lua, reading its keys and arguments by the names above. */
  body: string;
  /** The reply as its type (Redis turns Lua numbers into integers, tables into arrays). */
  reply: (raw: unknown) => R;
}) {
  const argNames = Object.keys(spec.args) as Array<keyof A & string>;
  const each = spec.each;
  const itemArgNames = each ? (Object.keys(each.args) as Array<keyof IA & string>) : [];
  const itemKeys = each?.keys ?? [];
  for (const name of [...spec.keys, ...argNames, ...itemKeys, ...itemArgNames]) {
    checkName(spec.name, name);
  }
  const prelude = [
    ...spec.keys.map((key, i) => `local ${key} = KEYS[${i + 1}]`),
    ...argNames.map(
      (arg, i) => `local ${arg} = ${read(spec.args[arg] as ArgType, `ARGV[${i + 1}]`)}`,
    ),
  ];
  if (each) {
    // Item i's values sit after the fixed ones, the items one after another.
    const [perItem, fixed, list] =
      itemArgNames.length > 0
        ? [itemArgNames.length, argNames.length, 'ARGV']
        : [itemKeys.length, spec.keys.length, 'KEYS'];
    prelude.push(`local itemCount = (#${list} - ${fixed}) / ${perItem}`);
    itemKeys.forEach((key, j) => {
      const at = `KEYS[${spec.keys.length} + ${itemKeys.length} * (i - 1) + ${j + 1}]`;
      prelude.push(`local function ${key}(i) return ${at} end`);
    });
    itemArgNames.forEach((arg, j) => {
      const at = `ARGV[${argNames.length} + ${itemArgNames.length} * (i - 1) + ${j + 1}]`;
      prelude.push(`local function ${arg}(i) return ${read(each.args[arg] as ArgType, at)} end`);
    });
  }
  const lua = `${prelude.join('\n')}\n${spec.body}`;
  // A script with a repeated tail has no fixed key count: each call sends its own.
  const fixedKeyCount = each && itemKeys.length > 0 ? undefined : spec.keys.length;

  /** KEYS then ARGV, in the declared order. */
  function positions(call: Call<K, A, IK, IA>): Array<string | number> {
    const items = call.items ?? [];
    const keys = [
      ...spec.keys.map((key) => call.keys[key]),
      ...items.flatMap((item) => itemKeys.map((key) => item[key] as string)),
    ];
    const args = [
      ...argNames.map((arg) => call.args[arg] as string | number),
      ...items.flatMap((item) => itemArgNames.map((arg) => item[arg] as string | number)),
    ];
    return fixedKeyCount === undefined ? [keys.length, ...keys, ...args] : [...keys, ...args];
  }

  return {
    name: spec.name,
    lua,
    /** Makes the script a command of `redis` (EVALSHA), once per connection. */
    define(redis: RedisClient): void {
      if (spec.name in redis) return;
      redis.defineCommand(spec.name, {
        lua,
        ...(fixedKeyCount === undefined ? {} : { numberOfKeys: fixedKeyCount }),
      });
    },
    async run(redis: RedisClient, call: Call<K, A, IK, IA>): Promise<R> {
      const values = positions(call);
      const command = (redis as unknown as Record<string, unknown>)[spec.name];
      if (typeof command === 'function') {
        return spec.reply(
          await (command as (...a: unknown[]) => Promise<unknown>).apply(redis, values),
        );
      }
      const numKeys = fixedKeyCount ?? (values.shift() as number);
      return spec.reply(await redis.eval(lua, numKeys, ...values));
    },
  };
}
