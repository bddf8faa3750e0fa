import { ValidationError } from '../errors/errors.js'

/** The Standard Schema v1 interface (standardschema.dev), implemented by zod, valibot, arktype and others. */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': {
    readonly version: 1
    readonly vendor: string
    readonly validate: (value: unknown) => StandardResult<Output> | Promise<StandardResult<Output>>
    readonly types?: { readonly input: Input; readonly output: Output } | undefined
  }
}

export type StandardResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: readonly { readonly message: string; readonly path?: readonly unknown[] }[] }

export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as StandardSchemaV1)['~standard']?.validate === 'function'
  )
}

/** Validates and returns the schema's output value, or throws ValidationError naming the issues. */
export async function validateWithSchema(
  schema: StandardSchemaV1,
  eventType: string,
  value: unknown,
): Promise<unknown> {
  const result = await schema['~standard'].validate(value)
  if (result.issues) {
    throw new ValidationError(
      eventType,
      result.issues.map((issue) => ({
        message: issue.message,
        path: issue.path?.map((segment) =>
          typeof segment === 'object' && segment !== null && 'key' in segment
            ? (segment as { key: unknown }).key
            : segment,
        ),
      })),
    )
  }
  return result.value
}
