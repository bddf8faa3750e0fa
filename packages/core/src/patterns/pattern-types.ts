import type { Event } from '../envelope/envelope.js'

/**
 * The `*`/`#` matching of patterns.ts, at the type level, so a typed catalogue can say which events
 * a pattern matches: a typo that matches nothing is a compile error, and a wildcard listener's event
 * is the union of the events it matches, with `event.type` as the discriminant.
 */

type Words<Name extends string> = Name extends `${infer Head}.${infer Tail}` ? [Head, ...Words<Tail>] : [Name]

type MatchWords<
  Pattern extends readonly string[],
  Name extends readonly string[],
> = Pattern extends readonly [infer Head extends string, ...infer Rest extends string[]]
  ? Head extends '#'
    ? MatchWords<Rest, Name> extends true
      ? true
      : Name extends readonly [string, ...infer NameRest extends string[]]
        ? MatchWords<Pattern, NameRest>
        : false
    : Name extends readonly [infer Word extends string, ...infer NameRest extends string[]]
      ? Head extends '*'
        ? MatchWords<Rest, NameRest>
        : [Head] extends [Word]
          ? MatchWords<Rest, NameRest>
          : false
      : false
  : Name extends readonly []
    ? true
    : false

/** `true` when the event name matches the pattern (`*` one word, `#` zero or more). */
export type MatchesPattern<Pattern extends string, Name extends string> = MatchWords<
  Words<Pattern>,
  Words<Name>
>

/** The catalogue has real names (not an untyped bus's `string` index). */
type IsTyped<Events> = string extends keyof Events ? false : true

/** Names of the catalogue the pattern matches (every name on an untyped bus). */
export type NamesMatching<Events, Pattern extends string> =
  IsTyped<Events> extends false
    ? string
    : {
        [Name in keyof Events & string]: MatchesPattern<Pattern, Name> extends true ? Name : never
      }[keyof Events & string]

/**
 * What listen() accepts as a pattern: on a typed catalogue, a pattern matching no event is refused
 * at compile time with this mark in the message; an untyped bus takes any pattern.
 */
export type KnownPattern<Events, Pattern extends string> = Pattern extends string
  ? IsTyped<Events> extends false
    ? Pattern
    : [NamesMatching<Events, Pattern>] extends [never]
      ? Pattern & { readonly 'no event of the catalogue matches this pattern': Pattern }
      : Pattern
  : never

/** The event a listener of `Pattern` receives: the union of the matching events, discriminated by `type`. */
export type EventFor<Events, Pattern extends string> =
  IsTyped<Events> extends false
    ? Event<unknown>
    : {
        [Name in NamesMatching<Events, Pattern> & keyof Events]: Event<Events[Name]> & { readonly type: Name }
      }[NamesMatching<Events, Pattern> & keyof Events]
