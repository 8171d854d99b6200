/**
 * Small validators shared by every kind's check(). Each returns failures
 * naming the property, quoting the value and, where finite, the allowed
 * values; values still unknown in preview are skipped.
 */
import type { CheckFailure } from "./context.ts";
import { isUnknown } from "./unknown.ts";

export class Failures {
  readonly list: CheckFailure[] = [];

  add(property: string, reason: string): void {
    this.list.push({ property, reason });
  }

  /** Returns the string when valid (and known), undefined otherwise. */
  string(
    property: string,
    value: unknown,
    opts: { required?: boolean; nonEmpty?: boolean } = {},
  ): string | undefined {
    if (isUnknown(value)) return undefined;
    if (value === undefined || value === null) {
      if (opts.required) this.add(property, `${property} is required`);
      return undefined;
    }
    if (typeof value !== "string") {
      this.add(property, `${property} must be a string, got ${typeof value} ${JSON.stringify(value)}`);
      return undefined;
    }
    if ((opts.nonEmpty ?? opts.required) && value.length === 0) {
      this.add(property, `${property} must not be empty`);
      return undefined;
    }
    return value;
  }

  oneOf<T extends string>(
    property: string,
    value: unknown,
    allowed: readonly T[],
    fallback?: T,
  ): T | undefined {
    if (isUnknown(value)) return undefined;
    if (value === undefined || value === null) return fallback;
    if (typeof value !== "string" || !allowed.includes(value as T)) {
      this.add(
        property,
        `${property} must be one of ${allowed.map((a) => `"${a}"`).join(", ")}, got ${JSON.stringify(value)}`,
      );
      return undefined;
    }
    return value as T;
  }

  integer(
    property: string,
    value: unknown,
    opts: { min?: number; max?: number; fallback?: number } = {},
  ): number | undefined {
    if (isUnknown(value)) return undefined;
    if (value === undefined || value === null) return opts.fallback;
    if (typeof value !== "number" || !Number.isInteger(value)) {
      this.add(property, `${property} must be an integer, got ${JSON.stringify(value)}`);
      return undefined;
    }
    if (opts.min !== undefined && value < opts.min) {
      this.add(property, `${property} must be at least ${opts.min}, got ${value}`);
      return undefined;
    }
    if (opts.max !== undefined && value > opts.max) {
      this.add(property, `${property} must be at most ${opts.max}, got ${value}`);
      return undefined;
    }
    return value;
  }

  boolean(property: string, value: unknown, fallback: boolean): boolean | undefined {
    if (isUnknown(value)) return undefined;
    if (value === undefined || value === null) return fallback;
    if (typeof value !== "boolean") {
      this.add(property, `${property} must be true or false, got ${JSON.stringify(value)}`);
      return undefined;
    }
    return value;
  }

  stringArray(property: string, value: unknown, opts: { required?: boolean } = {}): string[] | undefined {
    if (isUnknown(value)) return undefined;
    if (value === undefined || value === null) {
      if (opts.required) this.add(property, `${property} is required`);
      return undefined;
    }
    if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
      this.add(property, `${property} must be a list of strings, got ${JSON.stringify(value)}`);
      return undefined;
    }
    return value as string[];
  }

  get empty(): boolean {
    return this.list.length === 0;
  }
}
