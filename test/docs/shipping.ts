/** The module the testing guide's samples import as '../shipping.js': the example of examples/testing. */
export * from '../../examples/testing/shipping.js'
