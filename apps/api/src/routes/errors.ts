import { Type } from 'typebox';

export const ErrorSchema = Type.Object({
  statusCode: Type.Integer(),
  error: Type.String(),
  message: Type.String(),
});

/** The error responses a route can give, for its schema (and the OpenAPI document). */
export function errors<const C extends readonly number[]>(
  ...codes: C
): { [K in C[number]]: typeof ErrorSchema } {
  return Object.fromEntries(codes.map((code) => [code, ErrorSchema])) as {
    [K in C[number]]: typeof ErrorSchema;
  };
}
