BEGIN TRY

BEGIN TRAN;

-- AlterTable
ALTER TABLE [dbo].[import_jobs] ADD [callback_state] NVARCHAR(16);

-- AlterTable
ALTER TABLE [dbo].[import_jobs] ADD [callback_url] NVARCHAR(2048);

-- CreateTable
CREATE TABLE [dbo].[webhook_deliveries] (
    [id] INT NOT NULL IDENTITY(1,1),
    [job_id] NVARCHAR(36) NOT NULL,
    [attempt] INT NOT NULL,
    [at] DATETIME2 NOT NULL,
    [status_code] INT,
    [ok] BIT NOT NULL,
    [error] NVARCHAR(2000),
    CONSTRAINT [webhook_deliveries_pkey] PRIMARY KEY CLUSTERED ([id])
);

-- CreateIndex
CREATE NONCLUSTERED INDEX [webhook_deliveries_job_id_id_idx] ON [dbo].[webhook_deliveries]([job_id], [id]);

-- CreateIndex
CREATE NONCLUSTERED INDEX [import_jobs_callback_state_idx] ON [dbo].[import_jobs]([callback_state]);

-- AddForeignKey
ALTER TABLE [dbo].[webhook_deliveries] ADD CONSTRAINT [webhook_deliveries_job_id_fkey] FOREIGN KEY ([job_id]) REFERENCES [dbo].[import_jobs]([id]) ON DELETE CASCADE ON UPDATE CASCADE;

COMMIT TRAN;

END TRY
BEGIN CATCH

IF @@TRANCOUNT > 0
BEGIN
    ROLLBACK TRAN;
END;
THROW

END CATCH
